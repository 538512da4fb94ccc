// POST /v1/events/process: the agent conversations of leek-agent-protocol §10 through HTTP, read back as the merge
// rules predict; redelivery, dead letters, notifications, summary, and the 400/401/404/503 answers.
import { LEEK_DEAD_LETTERS_INDEX, LEEK_EVENTS_INDEX, LEEK_SUMMARY_INDEX } from '@shallot/store';
import { type LeekTrigger, leekScope } from '@shallot/schemas';
import t from 'tap';
import { summaryRowId } from '../src/leek/summary.js';
import { LIFECYCLE, RETRIES, RETRY_TASK_ID, TASK_ID, WATCH_ALL, WORKER, WORKER_ID, ingestHarness } from './fixtures/agent.js';

const SCOPE = leekScope('mono', 'billing');

t.test('§10.1: QUEUED → RECEIVED → STARTED → SUCCEEDED in four batches is stored as the merge rules say', async (t) => {
  const h = await ingestHarness(t);
  for (const batch of LIFECYCLE) {
    const res = await h.post(batch);
    t.equal(res.statusCode, 201);
    t.same(res.json(), { success: 1, rejected: 0, errors: [] });
  }
  const doc = await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, TASK_ID);
  t.equal(doc?.state, 'SUCCEEDED');
  t.same(doc?.events, ['SUCCEEDED', 'STARTED', 'RECEIVED', 'QUEUED']);
  t.equal(doc?.events_count, 4);
  t.notOk(doc && 'root_id' in doc, 'root_id equal to the uuid is removed (P2)');
  for (const field of ['queued_at', 'received_at', 'started_at', 'succeeded_at']) t.type(doc?.[field], 'number', field);
  t.equal(doc?.client, 'gen123@web-1');
  t.equal(doc?.worker, 'celery@worker-a');
  t.equal(doc?.runtime, 2.49);
  t.same(doc?.kwargs_flattened, { notify: true, 'meta.source': 'api', 'meta.tags.0': 'vip' });

  const sent = await h.notifications();
  t.same(
    sent.map((n) => [n.data.previous_state, n.data.task.state]),
    [
      [null, 'QUEUED'],
      ['QUEUED', 'RECEIVED'],
      ['RECEIVED', 'STARTED'],
      ['STARTED', 'SUCCEEDED'],
    ],
    'one notification per state change, with the previous state',
  );
  t.same(
    { ...sent[3]?.data, task: undefined },
    { org: 'mono', app: 'billing', app_env: 'prod', task: undefined, previous_state: 'STARTED' },
  );
  t.equal(sent[3]?.data.task.uuid, TASK_ID);
  t.equal(sent[3]?.data.task.events_count, 4, 'the notification carries the merged stored document');
  t.equal(sent[0]?.kind, 'leek_task');

  const row = await h.ctx.store.indexes.get(LEEK_SUMMARY_INDEX, SCOPE, summaryRowId('prod', 'billing.tasks.charge_invoice'));
  t.match(row, {
    app_env: 'prod',
    name: 'billing.tasks.charge_invoice',
    module: 'billing.tasks',
    function: 'charge_invoice',
    queue: 'billing',
    exchange: '',
    routing_key: 'billing',
    last_seen: 1718000004000,
    tasks: 1,
    runtime_count: 1,
    runtime_sum: 2.49,
    runtime_min: 2.49,
    runtime_max: 2.49,
  });
  t.same(row?.states, { QUEUED: 0, RECEIVED: 0, STARTED: 0, SUCCEEDED: 1 }, 'the task moved through the states and is counted once');
});

t.test('redelivery of whole batches leaves documents, summary and dead letters unchanged and notifies nothing', async (t) => {
  const h = await ingestHarness(t);
  const all = [...LIFECYCLE, ...RETRIES, ...WORKER];
  const invalid = [{ id: 'x', kind: 'task' }];
  for (const batch of all) await h.post(batch);
  await h.post(invalid);
  const snapshot = async () => ({
    events: (await h.ctx.store.indexes.search(LEEK_EVENTS_INDEX, SCOPE, { limit: 100, sort: [{ field: 'id', order: 'asc' }] })).hits,
    summary: (await h.ctx.store.indexes.search(LEEK_SUMMARY_INDEX, SCOPE, { limit: 100, sort: [{ field: 'id', order: 'asc' }] })).hits,
    letters: await h.ctx.store.indexes.count(LEEK_DEAD_LETTERS_INDEX, SCOPE),
  });
  const before = await snapshot();
  const notified = (await h.notifications()).length;
  t.equal(notified, 6, '4 lifecycle states + RETRY + CRITICAL; workers never notify');
  for (const batch of all) {
    const res = await h.post(batch);
    t.equal(res.statusCode, 201);
    t.equal(res.json().success, batch.length, 'no-op merges still count as success');
  }
  // A whole redelivered batch at once, too.
  t.equal(
    (
      await h.post(
        all
          .flat()
          .filter((d) => d.id === WORKER_ID)
          .slice(-1),
      )
    ).statusCode,
    201,
  );
  await h.post(invalid);
  t.same(await snapshot(), before);
  t.equal((await h.notifications()).length, notified, 'nothing enqueued by redelivery');
});

t.test('§10.2: failure with retries ends CRITICAL with both batches’ history', async (t) => {
  const h = await ingestHarness(t);
  for (const batch of RETRIES) t.equal((await h.post(batch)).statusCode, 201);
  const doc = await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, RETRY_TASK_ID);
  t.equal(doc?.state, 'CRITICAL');
  t.same(doc?.events, ['FAILED', 'STARTED', 'RECEIVED', 'RETRY', 'STARTED', 'RECEIVED']);
  t.equal(doc?.events_count, 6);
  t.equal(doc?.retried_at, 1718000101000, 'retried_at kept from batch A');
  t.equal(doc?.retries, 3);
  t.same(doc?.error, { type: 'smtplib.SMTPServerDisconnected', message: 'Connection unexpectedly closed' }, 'error fields from batch B');
  t.equal(doc?.exception, 'SMTPServerDisconnected()');
  const sent = await h.notifications();
  t.same(
    sent.map((n) => [n.data.previous_state, n.data.task.state]),
    [
      [null, 'RETRY'],
      ['RETRY', 'CRITICAL'],
    ],
  );
  const row = await h.ctx.store.indexes.get(LEEK_SUMMARY_INDEX, SCOPE, summaryRowId('prod', 'mail.tasks.send_receipt'));
  t.same(row?.states, { RETRY: 0, CRITICAL: 1 });
  t.equal(row?.tasks, 1);
  t.notOk(row && 'queue' in row, 'routing keys never seen stay absent (the client’s N/A bucket)');
});

t.test('§10.3: worker ONLINE → HEARTBEAT → OFFLINE', async (t) => {
  const h = await ingestHarness(t);
  for (const batch of WORKER) t.equal((await h.post(batch)).statusCode, 201);
  const doc = await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, WORKER_ID);
  t.equal(doc?.state, 'OFFLINE');
  t.equal(doc?.online_at, 1718000000500);
  t.equal(doc?.last_heartbeat_at, 1718000030000);
  t.equal(doc?.offline_at, 1718000090000);
  t.equal(doc?.processed, 61);
  t.equal(doc?.events_count, 16);
  t.same(await h.notifications(), [], 'workers do not notify');
  t.equal(await h.ctx.store.indexes.count(LEEK_SUMMARY_INDEX, SCOPE), 0, 'workers are not summarised');
});

t.test('out-of-order arrival: SUCCEEDED, then STARTED, then RECEIVED, then QUEUED', async (t) => {
  const h = await ingestHarness(t);
  for (const batch of [...LIFECYCLE].reverse()) t.equal((await h.post(batch)).statusCode, 201);
  const doc = await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, TASK_ID);
  t.equal(doc?.state, 'SUCCEEDED', 'a late non-terminal event never changes a terminal state (R2)');
  t.equal(doc?.worker, 'celery@worker-a');
  t.equal(doc?.started_at, 1718000001250, 'R2 copies G[STARTED]');
  t.equal(doc?.received_at, 1718000000500);
  t.equal(doc?.queued_at, 1718000000125);
  t.equal(doc?.queue, 'billing');
  t.equal(doc?.name, 'billing.tasks.charge_invoice', 'INPUT fields from the late RECEIVED');
  t.equal(doc?.exact_timestamp, 1718000003.75, 'timestamps stay those of the terminal event');
  t.same(doc?.events, ['QUEUED', 'RECEIVED', 'STARTED', 'SUCCEEDED']);
  t.equal(doc?.events_count, 4);
  t.same(
    (await h.notifications()).map((n) => n.data.task.state),
    ['SUCCEEDED'],
    'late events change fields but not the state: one notification',
  );
  // The task was first seen without a name; it moved to its named row once RECEIVED told the name.
  const unnamed = await h.ctx.store.indexes.get(LEEK_SUMMARY_INDEX, SCOPE, summaryRowId('prod', undefined));
  const named = await h.ctx.store.indexes.get(LEEK_SUMMARY_INDEX, SCOPE, summaryRowId('prod', 'billing.tasks.charge_invoice'));
  t.equal(unnamed?.tasks, 0);
  t.same(unnamed?.states, { SUCCEEDED: 0 });
  t.equal(unnamed?.runtime_count, 0);
  t.equal(named?.tasks, 1);
  t.same(named?.states, { SUCCEEDED: 1 });
  t.equal(named?.runtime_count, 1);
  t.equal(named?.queue, 'billing');
});

t.test('a batch mixing tasks and workers, with the agent’s in-batch collapse already done', async (t) => {
  const h = await ingestHarness(t);
  const batch = [LIFECYCLE[0]?.[0], WORKER[0]?.[0], RETRIES[0]?.[0]];
  const res = await h.post(batch);
  t.same(res.json(), { success: 3, rejected: 0, errors: [] });
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 3);
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE, { term: { field: 'kind', value: 'worker' } }), 1);
  t.equal((await h.notifications()).length, 2);
});

t.test('invalid documents are dead-lettered with their reason; the valid ones of the batch are stored', async (t) => {
  const h = await ingestHarness(t);
  const good = LIFECYCLE[0]?.[0] as Record<string, unknown>;
  const batch = [
    good,
    'not an object',
    { ...good, id: 'other', uuid: 'other', state: 'DONE' },
    { ...good, id: 'mismatch' },
    { id: 'w', kind: 'beetle' },
    { ...(WORKER[0]?.[0] as Record<string, unknown>), freq: 'fast' },
    { ...good, id: 'x'.repeat(600), uuid: 'x'.repeat(600) },
  ];
  const res = await h.post(batch, { env: 'staging' });
  t.equal(res.statusCode, 201);
  const body = res.json();
  t.equal(body.success, 1);
  t.equal(body.rejected, 6);
  t.same(
    body.errors.map((e: { index: number; id?: string }) => [e.index, e.id]),
    [
      [1, undefined],
      [2, 'other'],
      [3, 'mismatch'],
      [4, 'w'],
      [5, WORKER_ID],
      [6, 'x'.repeat(600)],
    ],
  );
  t.match(body.errors[0].reason, /JSON object/);
  t.match(body.errors[1].reason, /^\/state/);
  t.match(body.errors[2].reason, /must equal uuid/);
  t.match(body.errors[3].reason, /kind must be/);
  t.match(body.errors[4].reason, /^\/freq/);
  t.match(body.errors[5].reason, /512 bytes/);
  t.ok(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, TASK_ID), 'the valid document is stored');
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 1, 'no invalid document reaches the events');

  const letters = await h.ctx.store.indexes.search(LEEK_DEAD_LETTERS_INDEX, SCOPE, { sort: [{ field: 'index', order: 'asc' }], limit: 10 });
  t.equal(letters.total, 6);
  t.same(letters.hits[0]?.document, 'not an object', 'the element is kept as received');
  t.match(letters.hits[2], { index: 3, doc_id: 'mismatch', kind: 'task', app_env: 'staging', reason: /must equal uuid/ });
  t.type(letters.hits[2]?.received_at, 'number');

  const allBad = await h.post([{ nope: true }]);
  t.same(
    allBad.json(),
    { success: 0, rejected: 1, errors: [{ index: 0, reason: 'kind must be "task" or "worker"' }] },
    'the agent can ack',
  );
});

t.test('empty batch: 201 {"success": 0} and nothing else', async (t) => {
  const h = await ingestHarness(t);
  const res = await h.post([]);
  t.equal(res.statusCode, 201);
  t.equal(res.body, '{"success":0}');
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 0);
});

t.test('the body must be a JSON array: 400 400002', async (t) => {
  const h = await ingestHarness(t);
  for (const payload of [{ id: 'x' }, 'text', 42, null]) {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events/process',
      headers: {
        ...{ 'x-leek-org-name': 'mono', 'x-leek-app-name': 'billing', 'x-leek-app-key': h.agent.key, 'x-leek-app-env': 'prod' },
        'content-type': 'application/json',
      },
      payload: JSON.stringify(payload),
    });
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.equal(res.json().error.code, 400002);
  }
  const broken = await h.app.inject({
    method: 'POST',
    url: '/v1/events/process',
    headers: {
      'x-leek-org-name': 'mono',
      'x-leek-app-name': 'billing',
      'x-leek-app-key': h.agent.key,
      'x-leek-app-env': 'prod',
      'content-type': 'application/json',
    },
    payload: '[{"id": ',
  });
  t.equal(broken.statusCode, 400, 'unparsable JSON');
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 0);
});

t.test('headers: each missing one is 400 400001; malformed names never reach a scope (400 400002)', async (t) => {
  const h = await ingestHarness(t);
  for (const missing of ['org', 'app', 'key', 'env'] as const) {
    const res = await h.post(LIFECYCLE[0], { [missing]: undefined });
    t.equal(res.statusCode, 400, missing);
    t.equal(res.json().error.code, 400001, missing);
  }
  for (const [who, value] of [
    ['app', 'bill,ing'],
    ['app', 'bill*'],
    ['app', '../billing'],
    ['app', 'Billing'],
    ['org', 'mono,acme.io'],
    ['org', 'mono/..'],
    ['org', '*'],
    ['env', 'prod-1'],
  ] as const) {
    const res = await h.post(LIFECYCLE[0], { [who]: value });
    t.equal(res.statusCode, 400, `${who}=${value}`);
    t.equal(res.json().error.code, 400002);
  }
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 0);
});

t.test('unknown app 404 404001, wrong key 401 401001', async (t) => {
  const h = await ingestHarness(t);
  const unknown = await h.post(LIFECYCLE[0], { app: 'payroll' });
  t.equal(unknown.statusCode, 404);
  t.same(unknown.json().error.code, 404001);
  const wrong = await h.post(LIFECYCLE[0], { key: `${h.agent.key}x` });
  t.equal(wrong.statusCode, 401);
  t.same(wrong.json().error, { code: 401001, message: 'Wrong application key', reason: 'Wrong application key' });
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 0);
});

t.test('the shared agent secret opens the apps of its own org only', async (t) => {
  const h = await ingestHarness(t, { agentSecret: 'shared-secret-123', agentSecretOrg: 'mono' });
  const other = await h.register('acme.io', 'billing');
  t.equal((await h.post(LIFECYCLE[0], { key: 'shared-secret-123' })).statusCode, 201);
  const elsewhere = await h.post(LIFECYCLE[0], { ...other, key: 'shared-secret-123' });
  t.equal(elsewhere.statusCode, 401, 'another org’s app');
  t.equal(elsewhere.json().error.code, 401001);
  t.equal((await h.post(LIFECYCLE[0], other)).statusCode, 201, 'that app’s own key works');
});

t.test('without a scoping org the shared secret opens nothing', async (t) => {
  const h = await ingestHarness(t, { agentSecret: 'shared-secret-123', agentSecretOrg: '' });
  t.equal((await h.post(LIFECYCLE[0], { key: 'shared-secret-123' })).statusCode, 401);
});

t.test('tenant isolation: same app name in two orgs, separate data and keys', async (t) => {
  const h = await ingestHarness(t);
  const acme = await h.register('acme.io', 'billing');
  t.equal((await h.post(LIFECYCLE[0], { ...acme, key: h.agent.key })).statusCode, 401, 'mono’s key does not open acme.io');
  t.equal((await h.post(LIFECYCLE[0])).statusCode, 201);
  t.equal((await h.post(WORKER[0], acme)).statusCode, 201);
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 1);
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, leekScope('acme.io', 'billing')), 1);
  t.notOk(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, leekScope('acme.io', 'billing'), TASK_ID));
  const [first, second] = await h.notifications();
  t.equal(first?.data.org, 'mono');
  t.equal(second, undefined, 'only the task notified');
});

t.test('trailing slash is optional', async (t) => {
  const h = await ingestHarness(t);
  t.equal((await h.post(LIFECYCLE[0], {}, '/v1/events/process/')).statusCode, 201);
  const ready = await h.app.inject({
    method: 'GET',
    url: '/v1/events/process/',
    headers: { 'x-leek-org-name': 'mono', 'x-leek-app-name': 'billing', 'x-leek-app-key': h.agent.key },
  });
  t.equal(ready.statusCode, 200);
});

t.test('store unavailable: 503 503001, never 201', async (t) => {
  const h = await ingestHarness(t);
  await h.ctx.store.close();
  const res = await h.post(LIFECYCLE[0]);
  t.equal(res.statusCode, 503);
  t.equal(res.json().error.code, 503001);
  const ready = await h.ready();
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().error.code, 503001);
  t.same(await h.notifications(), []);
});

t.test('notifications only for what some trigger could match (enabled, env header, state)', async (t) => {
  const h = await ingestHarness(t);
  const trigger = { ...WATCH_ALL, id: 'FAILURESXX', states: ['CRITICAL', 'FAILED'], envs: ['prod'] };
  const cases: Array<[string, LeekTrigger[], string, number]> = [
    ['none', [], 'prod', 0],
    ['disabled', [{ ...WATCH_ALL, enabled: false }], 'prod', 0],
    ['failures in prod, batch from prod', [trigger], 'prod', 1],
    ['failures in prod, batch from staging', [trigger], 'staging', 0],
    [
      'one of several matches',
      [
        { ...trigger, envs: ['staging'] },
        { ...WATCH_ALL, id: 'RETRIESXXX', states: ['RETRY'] },
      ],
      'prod',
      1,
    ],
  ];
  for (const [name, triggers, env, expected] of cases) {
    const agent = await h.register('mono', name.replace(/[^a-z]/g, ''), undefined, triggers);
    const before = (await h.notifications()).length;
    for (const batch of RETRIES) t.equal((await h.post(batch, { ...agent, env })).statusCode, 201);
    t.equal((await h.notifications()).length - before, expected, name);
  }
  const last = (await h.notifications()).at(-1);
  t.equal(last?.data.task.state, 'RETRY', 'the RETRY-watching trigger got the RETRY transition');
});
