import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, createProducer, listDeliveryFailures, prepareApp } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import {
  LEEK_APPLICATIONS,
  type LeekNotifiedTask,
  type LeekTaskNotification,
  type LeekTrigger,
  type NotifyPayload,
  deliveriesQueue,
  leekDeliveryScope,
  leekScope,
  notifyQueue,
} from '@shallot/schemas';
import type { Queue } from 'bullmq';
import t from 'tap';
import { jobRunnerPlugin } from '../src/plugin.js';

const ORG = 'acme.io';
const PUBLIC_URL = 'https://shallot.example/';

interface Hit {
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A web hook receiver on `host`: records every request; `statuses[path]` lists the answers to give, last one repeated. */
async function receiver(host: string) {
  const hits: Hit[] = [];
  const statuses = new Map<string, number[]>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const path = req.url ?? '';
      hits.push({ path, headers: req.headers, body: JSON.parse(raw || 'null') });
      const plan = statuses.get(path) ?? [200];
      const status = (plan.length > 1 ? plan.shift() : plan[0]) ?? 200;
      res.writeHead(status);
      res.end(status === 200 ? 'ok' : 'server_error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hits,
    statuses,
    url: (path: string) => `http://${host}:${port}${path}`,
    at: (path: string) => hits.filter((h) => h.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ctx = await testContext(t, {
  serverId: 'triggers-test',
  webhookAllow: '127.0.0.1',
  publicUrl: PUBLIC_URL,
  shutdownTimeoutMs: 3000,
});
const app = createApp(ctx.config);
await prepareApp(app, ctx, 'job-runner');
await app.register(jobRunnerPlugin, { ctx, notifications: { attempts: 3, backoffMs: 20, timeoutMs: 2000 } });
await app.ready();
const hooks = await receiver('127.0.0.1');
// Loopback too, but not allow-listed: nothing may ever reach it.
const forbidden = await receiver('127.0.0.2');
const notify = createProducer(ctx.redis, notifyQueue);
const deliveriesView = createProducer(ctx.redis, deliveriesQueue);
t.teardown(async () => {
  await app.close();
  await Promise.all([notify.close(), deliveriesView.close(), hooks.close(), forbidden.close()]);
});

const BUSY = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;
async function busy(queue: Queue) {
  const counts = await queue.getJobCounts(...BUSY);
  return Object.values(counts).some((n) => n > 0);
}
/** Resolves once every notify job and every delivery (retries included) has finished. */
async function settled() {
  for (let i = 0; i < 500; i++) {
    // Notify first: a notify job queues its deliveries before it completes.
    if (!(await busy(notify.queue)) && !(await busy(deliveriesView.queue))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('queues did not settle');
}

let triggerSeq = 0;
function trigger(path: string, fields: Partial<LeekTrigger> = {}, url = hooks.url(path)): LeekTrigger {
  triggerSeq++;
  const id = `TRIG${String.fromCharCode(65 + (triggerSeq % 26))}${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[Math.floor(triggerSeq / 26)]}AAAA`;
  return { id, enabled: true, type: 'slack', slack_wh_url: url, states: [], envs: [], ...fields };
}

async function application(name: string, triggers: unknown[]) {
  await ctx.store.collections.create(LEEK_APPLICATIONS, {
    id: leekScope(ORG, name),
    org: ORG,
    app_name: name,
    app_description: 'test app',
    app_key: 'app-test',
    owner: 'jo@acme.io',
    created_at: Date.now(),
    fo_triggers: triggers,
  });
}

let uuidSeq = 0;
const newUuid = () => `00000000-0000-4000-8000-${String(++uuidSeq).padStart(12, '0')}`;

function task(fields: Partial<LeekNotifiedTask> = {}): LeekNotifiedTask {
  return {
    id: fields.uuid ?? 'x',
    uuid: 'x',
    kind: 'task',
    state: 'FAILED',
    app_env: 'prod',
    timestamp: 1_700_000_000_000,
    events: [fields.state ?? 'FAILED'],
    events_count: 1,
    name: 'app.billing.charge',
    worker: 'celery@worker-1',
    ...fields,
  };
}

function message(appName: string, doc: LeekNotifiedTask, env = 'prod', previous: string | null = 'STARTED'): LeekTaskNotification {
  return { kind: 'leek_task', data: { org: ORG, app: appName, app_env: env, task: { ...doc, id: doc.uuid }, previous_state: previous } };
}

async function send(...messages: Array<LeekTaskNotification | NotifyPayload>) {
  for (const m of messages) await notify.add(m as NotifyPayload);
  await settled();
}

interface SlackBody {
  attachments: Array<{
    color: string;
    title: string;
    title_link?: string;
    fallback: string;
    fields: Array<{ title: string; value: string; short: boolean }>;
  }>;
}
const attachmentOf = (hit: Hit | undefined) => (hit?.body as SlackBody | undefined)?.attachments[0];
const titleOf = (hit: Hit | undefined) => attachmentOf(hit)?.title;
const fieldsOf = (hit: Hit | undefined) =>
  Object.fromEntries(((hit?.body as SlackBody | undefined)?.attachments[0]?.fields ?? []).map((f) => [f.title, f.value]));

t.test('triggers: a matching task transition sends one Slack message with the task, app, env, worker, runtime and exception', async (t) => {
  await application('content', [trigger('/content', { states: ['FAILED'] })]);
  const uuid = newUuid();
  await send(message('content', task({ uuid, runtime: 1.25, exception: "KeyError('amount')", app_env: 'prod' })));
  const hits = hooks.at('/content');
  t.equal(hits.length, 1);
  t.equal(hits[0]?.headers['content-type'], 'application/json');
  const attachment = attachmentOf(hits[0]);
  t.equal(attachment?.color, 'danger');
  t.equal(attachment?.title, 'Task: app.billing.charge');
  t.equal(attachment?.title_link, `https://shallot.example/task?app=content&uuid=${uuid}`);
  t.same(attachment?.fields.slice(0, 5), [
    { title: 'Application', value: 'content', short: true },
    { title: 'Environment', value: 'prod', short: true },
    { title: 'Task worker', value: 'celery@worker-1', short: true },
    { title: 'Task state', value: 'FAILED', short: true },
    { title: 'Task uuid', value: uuid, short: false },
  ]);
  t.match(fieldsOf(hits[0]), { Runtime: '1.25 seconds', Exception: "KeyError('amount')" });
  t.same(await listDeliveryFailures(ctx.redis, leekDeliveryScope(leekScope(ORG, 'content'))), []);
});

t.test('triggers: colours follow the state, and task text cannot ping a channel or forge a link', async (t) => {
  await application('colours', [trigger('/colours')]);
  await send(
    message('colours', task({ uuid: newUuid(), state: 'SUCCEEDED', runtime: 0.5, name: 'ok.task' })),
    message('colours', task({ uuid: newUuid(), state: 'STARTED', name: 'started.task' }), 'prod', 'RECEIVED'),
    message('colours', task({ uuid: newUuid(), state: 'FAILED', name: 'x <!channel> <http://evil|click> & more', exception: '<!here>' })),
  );
  const hits = hooks.at('/colours');
  t.equal(hits.length, 3);
  const byState = new Map(hits.map((h) => [fieldsOf(h)['Task state'], attachmentOf(h)]));
  t.equal(byState.get('SUCCEEDED')?.color, 'good');
  t.equal(byState.get('STARTED')?.color, '#36C5F0');
  const failed = byState.get('FAILED');
  t.equal(failed?.title, 'Task: x &lt;!channel&gt; &lt;http://evil|click&gt; &amp; more');
  t.equal(failed?.fields.find((f) => f.title === 'Exception')?.value, '&lt;!here&gt;');
});

t.test('triggers: env filter uses the batch env header, both ways', async (t) => {
  await application('envs', [trigger('/envs', { envs: ['prod'] })]);
  await send(
    message('envs', task({ uuid: newUuid(), name: 'in.prod', app_env: 'whatever' }), 'prod'),
    message('envs', task({ uuid: newUuid(), name: 'in.staging', app_env: 'prod' }), 'staging'),
  );
  const names = hooks.at('/envs').map((h) => titleOf(h));
  t.same(names, ['Task: in.prod']);
  t.equal(fieldsOf(hooks.at('/envs')[0]).Environment, 'whatever', 'the message shows the document env');
});

t.test('triggers: state filter, both ways', async (t) => {
  await application('states', [trigger('/states', { states: ['FAILED', 'CRITICAL'] })]);
  await send(
    message('states', task({ uuid: newUuid(), state: 'SUCCEEDED', name: 'succeeded' })),
    message('states', task({ uuid: newUuid(), state: 'RETRY', name: 'retry' })),
    message('states', task({ uuid: newUuid(), state: 'CRITICAL', name: 'critical' })),
  );
  t.same(
    hooks.at('/states').map((h) => fieldsOf(h)['Task state']),
    ['CRITICAL'],
  );
});

t.test('triggers: include notifies only names matching a pattern at their start', async (t) => {
  await application('include', [trigger('/include', { include: ['app\\.billing\\.', 'reports'] })]);
  await send(
    message('include', task({ uuid: newUuid(), name: 'app.billing.charge' })),
    message('include', task({ uuid: newUuid(), name: 'reports.daily' })),
    message('include', task({ uuid: newUuid(), name: 'app.mail.send' })),
    message('include', task({ uuid: newUuid(), name: 'legacy.app.billing.charge' })),
  );
  const titles = hooks
    .at('/include')
    .map((h) => titleOf(h))
    .sort();
  t.same(titles, ['Task: app.billing.charge', 'Task: reports.daily'], 'not "not matching": the reference inverted include');
});

t.test('triggers: exclude drops names matching a pattern, keeps the others', async (t) => {
  await application('exclude', [trigger('/exclude', { exclude: ['app\\.mail'] })]);
  await send(
    message('exclude', task({ uuid: newUuid(), name: 'app.mail.send' })),
    message('exclude', task({ uuid: newUuid(), name: 'app.billing.charge' })),
    message('exclude', task({ uuid: newUuid(), name: 'other.app.mail' })),
  );
  const titles = hooks
    .at('/exclude')
    .map((h) => titleOf(h))
    .sort();
  t.same(titles, ['Task: app.billing.charge', 'Task: other.app.mail']);
});

t.test('triggers: a task without a name is matched as "" instead of crashing', async (t) => {
  await application('noname', [trigger('/noname-include', { include: ['app'] }), trigger('/noname-exclude', { exclude: ['app'] })]);
  const doc = task({ uuid: newUuid() });
  delete doc.name;
  await send(message('noname', doc));
  t.equal(hooks.at('/noname-include').length, 0);
  t.equal(hooks.at('/noname-exclude').length, 1);
  t.equal(titleOf(hooks.at('/noname-exclude')[0]), 'Task: N/A');
});

t.test('triggers: the runtime upper bound applies to successes only, and says it was exceeded', async (t) => {
  await application('runtime', [trigger('/runtime', { runtime_upper_bound: 5 })]);
  await send(
    message('runtime', task({ uuid: newUuid(), state: 'SUCCEEDED', runtime: 3, name: 'fast' })),
    message('runtime', task({ uuid: newUuid(), state: 'SUCCEEDED', runtime: 5, name: 'at.bound' })),
    message('runtime', task({ uuid: newUuid(), state: 'RECOVERED', runtime: 7.5, name: 'slow' })),
    message('runtime', task({ uuid: newUuid(), state: 'SUCCEEDED', name: 'no.runtime' })),
    message('runtime', task({ uuid: newUuid(), state: 'FAILED', runtime: 1, name: 'failed.fast' })),
  );
  const byName = new Map(hooks.at('/runtime').map((h) => [titleOf(h), fieldsOf(h)]));
  t.same([...byName.keys()].sort(), ['Task: failed.fast', 'Task: slow']);
  t.equal(byName.get('Task: slow')?.Note, 'runtime upper bound exceeded: 7.5 seconds');
  t.equal(byName.get('Task: failed.fast')?.Note, undefined, 'other states ignore the bound');
});

t.test('triggers: a disabled trigger, a missing application and a malformed stored trigger send nothing', async (t) => {
  await application('disabled', [
    trigger('/disabled', { enabled: false }),
    { id: 'BROKEN', enabled: true, type: 'email' },
    trigger('/enabled'),
  ]);
  await send(message('disabled', task({ uuid: newUuid() })), message('nosuchapp', task({ uuid: newUuid() })));
  t.equal(hooks.at('/disabled').length, 0);
  t.equal(hooks.at('/enabled').length, 1, 'the other triggers of the app still work');
});

t.test('triggers: bad and runaway patterns never match and never stall the worker', async (t) => {
  await application('patterns', [
    trigger('/bad-include', { include: ['(unclosed', 'good\\.'] }),
    trigger('/runaway-exclude', { exclude: ['(a+)+$'] }),
    trigger('/python-syntax', { include: ['(?i)(?P<mod>APP)\\.'] }),
  ]);
  await send(
    message('patterns', task({ uuid: newUuid(), name: 'good.task' })),
    message('patterns', task({ uuid: newUuid(), name: `${'a'.repeat(40)}!` })),
  );
  t.equal(hooks.at('/bad-include').length, 1, 'the valid pattern of the list still matches');
  t.equal(hooks.at('/runaway-exclude').length, 2, 'a runaway exclude pattern excludes nothing');
  t.equal(hooks.at('/python-syntax').length, 0);
  await send(message('patterns', task({ uuid: newUuid(), name: 'app.mail' })));
  t.equal(hooks.at('/python-syntax').length, 1, 'Python named groups and (?i) are understood');
});

t.test('triggers: the same message twice, and a second transition message into the same state, notify once', async (t) => {
  await application('dedupe', [trigger('/dedupe', { states: ['FAILED'] }), trigger('/dedupe-all')]);
  const uuid = newUuid();
  const failed = message('dedupe', task({ uuid, state: 'FAILED' }), 'prod', 'STARTED');
  await send(failed, failed);
  await send(message('dedupe', task({ uuid, state: 'FAILED' }), 'prod', 'RECEIVED'));
  t.equal(hooks.at('/dedupe').length, 1);
  await send(message('dedupe', task({ uuid, state: 'FAILED' }), 'prod', 'FAILED'));
  t.equal(hooks.at('/dedupe-all').length, 1, 'a message without a state change is not a transition');
  await send(message('dedupe', task({ uuid, state: 'CRITICAL', retries: 1 }), 'prod', 'FAILED'));
  t.equal(hooks.at('/dedupe').length, 1, 'CRITICAL does not match the first trigger');
  t.equal(hooks.at('/dedupe-all').length, 2, 'a transition into another state notifies again');
});

t.test('triggers: each retry cycle is its own transition into RETRY; a redelivered one is not', async (t) => {
  await application('retries', [trigger('/retries', { states: ['RETRY'] })]);
  const uuid = newUuid();
  const first = message('retries', task({ uuid, state: 'RETRY', retries: 0 }), 'prod', 'STARTED');
  await send(first, first);
  t.equal(hooks.at('/retries').length, 1);
  await send(message('retries', task({ uuid, state: 'RETRY', retries: 1 }), 'prod', 'STARTED'));
  t.equal(hooks.at('/retries').length, 2, 'RETRY → STARTED → RETRY notifies twice');
});

t.test('triggers: a receiver that fails twice then succeeds gets the message delivered once, after retries', async (t) => {
  await application('flaky', [trigger('/flaky')]);
  hooks.statuses.set('/flaky', [503, 500, 200]);
  await send(message('flaky', task({ uuid: newUuid() })));
  const statuses = hooks.at('/flaky').map((h) => fieldsOf(h)['Task state']);
  t.equal(statuses.length, 3, 'two failed attempts and one that succeeded');
  t.same(await listDeliveryFailures(ctx.redis, leekDeliveryScope(leekScope(ORG, 'flaky'))), [], 'no failure recorded');
});

t.test('triggers: a receiver that always fails is retried, then the failure is recorded without the URL secret', async (t) => {
  await application('down', [trigger('/down/T000/B000/s3cr3t', { states: ['FAILED'] })]);
  hooks.statuses.set('/down/T000/B000/s3cr3t', [500]);
  const uuid = newUuid();
  await send(message('down', task({ uuid })));
  t.equal(hooks.at('/down/T000/B000/s3cr3t').length, 3, 'every attempt was made');
  const failures = await listDeliveryFailures(ctx.redis, leekDeliveryScope(leekScope(ORG, 'down')));
  t.equal(failures.length, 1);
  t.match(failures[0], {
    channel: 'slack',
    target: hooks.url('').replace(/\/$/, ''),
    refused: false,
    attempts: 3,
    status: 500,
    reason: 'HTTP 500: server_error',
    subject: { org: ORG, app: 'down', env: 'prod', task: uuid, state: 'FAILED', name: 'app.billing.charge' },
  });
  t.notMatch(JSON.stringify(failures), /s3cr3t/);
});

t.test('triggers: a permanent HTTP error is recorded at once, without retries', async (t) => {
  await application('gone', [trigger('/gone')]);
  hooks.statuses.set('/gone', [404]);
  await send(message('gone', task({ uuid: newUuid() })));
  t.equal(hooks.at('/gone').length, 1);
  const failures = await listDeliveryFailures(ctx.redis, leekDeliveryScope(leekScope(ORG, 'gone')));
  t.match(failures, [{ status: 404, attempts: 1, refused: false }]);
});

t.test('triggers: a loopback URL that is not allow-listed is refused, recorded, and never called', async (t) => {
  await application('refused', [trigger('/refused', {}, forbidden.url('/refused')), trigger('/meta', {}, 'http://169.254.169.254/latest')]);
  await send(message('refused', task({ uuid: newUuid() })));
  t.equal(forbidden.hits.length, 0, 'no request was made');
  const failures = await listDeliveryFailures(ctx.redis, leekDeliveryScope(leekScope(ORG, 'refused')));
  t.equal(failures.length, 2);
  const byTarget = new Map(failures.map((f) => [f.target, f]));
  t.match(byTarget.get(forbidden.url('').replace(/\/$/, '')), { refused: true, attempts: 0, status: 0, reason: /loopback/ });
  t.match(byTarget.get('http://169.254.169.254'), { refused: true, reason: /link-local/ });
});

t.test('triggers: malformed and unknown notifications are dropped without retries', async (t) => {
  await send(
    { kind: 'leek_task', data: { org: ORG, app: 'content', app_env: 'prod', task: { uuid: 'x' }, previous_state: null } },
    { kind: 'no_such_kind', data: {} },
  );
  const failed = await notify.queue.getFailed();
  const bad = failed.filter((j) => j.data.kind === 'leek_task');
  t.equal(bad.length, 1);
  t.equal(bad[0]?.attemptsMade, 1, 'not retried');
  t.match(bad[0]?.failedReason, /invalid leek_task notification/);
  t.notOk(
    failed.some((j) => j.data.kind === 'no_such_kind'),
    'an unknown kind is dropped, not failed',
  );
});
