// The Leek web client's remaining calls (leek-management-and-search §3, §8): whoami, transforms, the app's Celery
// broker setting, and /v1/control + /v1/broker acting on a real Celery worker (Debian's python3-celery) over its own
// password-protected redis-server, with every refusal: no broker (501), unreachable or wrong password, bad ids,
// wrong task states, unreadable args, non-members and non-admins.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USERS, hashPassword, userKey } from '@shallot/core';
import { LEEK_APPLICATIONS, leekScope } from '@shallot/schemas';
import { LEEK_EVENTS_INDEX } from '@shallot/store';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { type Answer, type Harness, harness } from './helpers.js';
import { freePort } from '@shallot/core';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** Debian's interpreter: python3-celery and python3-redis install into it (another python3 may come first on PATH). */
const PYTHON = '/usr/bin/python3';
const BROKER_PASSWORD = 'broker-secret-42';

/** Why the Celery cases cannot run here, or undefined when they can. */
function celeryMissing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import celery, redis'], { stdio: 'ignore', timeout: 20_000 });
    return undefined;
  } catch {
    return `${PYTHON} cannot import celery and redis: install the Debian packages python3-celery and python3-redis (.ci/run does)`;
  }
}

/** A redis-server of our own on a free port, with a password: Celery's keys never touch the shared Redis. */
async function ownRedis(t: Test): Promise<{ port: number; url: string; client: Redis }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'shallot-broker-'));
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', BROKER_PASSWORD],
    { stdio: 'ignore' },
  );
  const client = new Redis({ port, host: '127.0.0.1', password: BROKER_PASSWORD, lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => {});
  t.teardown(async () => {
    client.disconnect();
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, url: `redis://:${BROKER_PASSWORD}@127.0.0.1:${port}/0`, client };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Celery worker (solo pool, queue `celery`) on the broker; ready once its mailbox listens for control commands. */
async function celeryWorker(t: Test, brokerUrl: string, client: Redis, queue = 'celery', resultUrl = brokerUrl): Promise<ChildProcess> {
  const worker = spawn(
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      'celery_app',
      'worker',
      '--pool=solo',
      '-Q',
      queue,
      '-n',
      `w1@${queue}`,
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '--loglevel=INFO',
    ],
    {
      cwd: FIXTURES,
      env: { ...process.env, PYTHONPATH: FIXTURES, SHALLOT_TEST_BROKER_URL: brokerUrl, SHALLOT_TEST_RESULT_URL: resultUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  worker.stdout?.on('data', (d) => (log += d));
  worker.stderr?.on('data', (d) => (log += d));
  t.teardown(() => {
    worker.kill('SIGKILL');
  });
  try {
    await until('the worker to listen', async () => {
      if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode}`);
      if (brokerUrl.startsWith('amqp')) return / ready\./.test(log) ? true : undefined;
      const patterns = Number(await client.call('PUBSUB', 'NUMPAT'));
      const bound = await client.exists('_kombu.binding.celery');
      return patterns > 0 && bound > 0 ? true : undefined;
    });
  } catch (error) {
    t.comment(log);
    throw error;
  }
  return worker;
}

/** Queues tasks with Celery's own client (independent of the code under test). */
function celeryClient(brokerUrl: string, script: string, resultUrl = brokerUrl): void {
  execFileSync(PYTHON, ['-c', `from celery_app import add\n${script}`], {
    cwd: FIXTURES,
    env: { ...process.env, PYTHONPATH: FIXTURES, SHALLOT_TEST_BROKER_URL: brokerUrl, SHALLOT_TEST_RESULT_URL: resultUrl },
    stdio: 'pipe',
    timeout: 30_000,
  });
}

const PASSWORD_HASH = hashPassword('user-password-1');

interface Who {
  headers: Record<string, string>;
}

async function user(h: Harness, username: string, email: string): Promise<Who> {
  await h.ctx.store.collections.create(USERS, {
    id: userKey(username),
    username,
    full_name: username,
    email,
    // Orgs derive from the administrator-confirmed address.
    verified_email: email.toLowerCase(),
    active: true,
    password: await PASSWORD_HASH,
    privileges: {},
    roles: [],
    categories: [],
    groups: [],
  });
  const session = await h.app.sessions.issue(username);
  return { headers: { 'x-session-id': session.token } };
}

interface World {
  h: Harness;
  owner: Who;
  colleague: Who;
  stranger: Who;
  call(
    who: Who | undefined,
    options: { method: string; url: string; payload?: unknown; app?: string; env?: string },
  ): Promise<{ status: number; body: Answer }>;
  task(uuid: string, fields: Record<string, unknown>): Promise<void>;
}

const SCOPE = leekScope('acme.io', 'billing');

async function world(t: Test, brokerAllow = '127.0.0.1'): Promise<World> {
  const h = await harness(t, { brokerAllow });
  const owner = await user(h, 'olivia', 'olivia@acme.io');
  const colleague = await user(h, 'carl', 'carl@acme.io');
  const stranger = await user(h, 'sam', 'sam@beta.io');
  const call: World['call'] = async (who, { app, env, ...options }) => {
    const headers: Record<string, string> = { ...(who?.headers ?? {}) };
    if (app !== undefined) headers['x-leek-app-name'] = app;
    if (env !== undefined) headers['x-leek-app-env'] = env;
    const res = await h.app.inject({
      method: options.method as 'GET',
      url: options.url,
      headers,
      ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
    });
    return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as Answer };
  };
  const created = await call(owner, {
    method: 'POST',
    url: '/v1/applications',
    payload: { app_name: 'billing', app_description: 'Invoices' },
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const task = async (uuid: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    await h.ctx.store.indexes.bulkUpsert(LEEK_EVENTS_INDEX, SCOPE, [
      {
        id: uuid,
        uuid,
        kind: 'task',
        app_env: 'prod',
        timestamp: now,
        exact_timestamp: now / 1000,
        updated_at: now,
        utcoffset: 0,
        pid: 1,
        clock: 1,
        name: 'celery_app.add',
        exchange: 'celery',
        routing_key: 'celery',
        queue: 'celery',
        ...fields,
      },
    ]);
  };
  return { h, owner, colleague, stranger, call, task };
}

const code = (res: { body: Answer }) => res.body?.error?.code;

t.test('whoami and transforms answer as Leek does where there is nothing to transform', async (t) => {
  const { owner, colleague, stranger, call } = await world(t);
  const me = await call(owner, { method: 'GET', url: '/v1/users/whoami' });
  t.equal(me.status, 200);
  t.same(me.body, { claims: { email: 'olivia@acme.io', org: 'acme.io', kind: 'session' } });
  t.equal(code(await call(undefined, { method: 'GET', url: '/v1/users/whoami' })), 401003, 'anonymous: 401003');

  const list = await call(colleague, { method: 'GET', url: '/v1/applications/transforms', app: 'billing' });
  t.equal(list.status, 200);
  t.same(list.body, [], 'members see no summary job: the summary is written with the documents');
  t.equal(
    code(await call(stranger, { method: 'GET', url: '/v1/applications/transforms', app: 'billing' })),
    404001,
    'another org: no such app',
  );
  t.equal(code(await call(owner, { method: 'GET', url: '/v1/applications/transforms' })), 400001, 'header missing');

  const start = await call(owner, { method: 'POST', url: '/v1/applications/transforms/start', app: 'billing' });
  t.equal(start.status, 200);
  t.equal(start.body, 'Done');
  t.equal(code(await call(colleague, { method: 'POST', url: '/v1/applications/transforms/start', app: 'billing' })), 401002, 'owner only');
});

t.test('the broker setting: owner only, validated, its password never shown', async (t) => {
  const { h, owner, colleague, call } = await world(t);
  const url = `redis://:${BROKER_PASSWORD}@127.0.0.1:6390/3`;
  const set = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url: url } });
  t.equal(set.status, 200, JSON.stringify(set.body));
  t.equal(set.body.broker_url, 'redis://:****@127.0.0.1:6390/3');
  const listed = await call(colleague, { method: 'GET', url: '/v1/applications' });
  t.equal(listed.body[0].broker_url, 'redis://:****@127.0.0.1:6390/3');
  t.notMatch(JSON.stringify(listed.body), BROKER_PASSWORD, 'no answer carries the password');
  t.equal((await h.ctx.store.collections.get(LEEK_APPLICATIONS, SCOPE))?.broker_url, url, 'stored as given');

  t.equal(
    code(await call(colleague, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url: url } })),
    401002,
  );
  t.equal(code(await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'nope', payload: { broker_url: url } })), 404001);
  const bad: Array<[unknown, RegExp]> = [
    ['not a url', /not a URL/],
    ['http://127.0.0.1:6379', /redis:\/\/, rediss:\/\/, amqp:\/\/ or amqps:\/\//],
    ['redis://127.0.0.1:6379/abc', /database number/],
    ['redis://127.0.0.1:6379/0?ssl=1', /query strings/],
    ['', /./],
    [42, /./],
  ];
  for (const [broker_url, reason] of bad) {
    const res = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url } });
    t.equal(res.status, 400, String(broker_url));
    t.equal(code(res), 400002);
    t.match(res.body.error.reason ?? '', reason, String(broker_url));
  }
  const extra = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url: url, x: 1 } });
  t.equal(code(extra), 400002, 'unknown fields refused');
  t.equal((await h.ctx.store.collections.get(LEEK_APPLICATIONS, SCOPE))?.broker_url, url, 'refusals changed nothing');

  const unset = await call(owner, { method: 'DELETE', url: '/v1/applications/broker', app: 'billing' });
  t.equal(unset.status, 200);
  t.notOk('broker_url' in unset.body, 'gone from the app');
  t.equal(code(await call(owner, { method: 'GET', url: '/v1/broker/queues', app: 'billing' })), 501001, 'then 501 again');
});

t.test('internal broker hosts need SHALLOT_BROKER_ALLOW (a broker URL is a connection the server makes)', async (t) => {
  const { call, owner } = await world(t, '');
  for (const broker_url of [
    'redis://127.0.0.1:6379/0',
    'redis://10.1.2.3:6379/0',
    'redis://[::1]:6379/0',
    'redis://169.254.169.254:80/0',
  ]) {
    const res = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url } });
    t.equal(res.status, 400, broker_url);
    t.match(res.body.error.reason, /SHALLOT_BROKER_ALLOW/, broker_url);
  }
});

t.test('no broker configured: every control and broker call answers 501 501001 naming the setting', async (t) => {
  const { call, owner, task } = await world(t);
  await task('t-failed', { state: 'FAILED', args: '(1, 2)', kwargs: '{}' });
  await task('t-queued', { state: 'QUEUED' });
  const calls = [
    { method: 'POST', url: '/v1/control/tasks/t-failed/retry' },
    { method: 'POST', url: '/v1/control/tasks/t-queued/revoke-by-id', payload: {} },
    { method: 'POST', url: '/v1/control/tasks/retry-by-query', payload: { query: {}, dry_run: true }, env: 'prod' },
    { method: 'POST', url: '/v1/control/tasks/celery_app.add/revoke-by-name', payload: {}, env: 'prod' },
    { method: 'GET', url: '/v1/broker/drift', env: 'prod' },
    { method: 'GET', url: '/v1/broker/queues' },
    { method: 'DELETE', url: '/v1/broker/queue/celery/purge' },
  ];
  for (const c of calls) {
    const res = await call(owner, { ...c, app: 'billing' });
    t.equal(res.status, 501, c.url);
    t.equal(code(res), 501001, c.url);
    t.match(res.body.error.reason, /no Celery broker configured.*PUT \/v1\/applications\/broker/, c.url);
  }
});

t.test('an unreachable broker is 503 503002 within the bounded timeout; a wrong password 401 401004', async (t) => {
  const { call, owner, task } = await world(t);
  await task('t-failed', { state: 'FAILED', args: '(1, 2)', kwargs: '{}' });
  const closed = await freePort();
  await call(owner, {
    method: 'PUT',
    url: '/v1/applications/broker',
    app: 'billing',
    payload: { broker_url: `redis://127.0.0.1:${closed}/0` },
  });
  const started = Date.now();
  const down = await call(owner, { method: 'POST', url: '/v1/control/tasks/t-failed/retry', app: 'billing' });
  t.equal(down.status, 503);
  t.equal(code(down), 503002);
  t.match(down.body.error.reason, new RegExp(`127\\.0\\.0\\.1:${closed} is not reachable`));
  t.ok(Date.now() - started < 10_000, 'answers within the timeout');
  t.equal(code(await call(owner, { method: 'GET', url: '/v1/broker/queues', app: 'billing' })), 503002);

  const { port } = await ownRedis(t);
  await call(owner, {
    method: 'PUT',
    url: '/v1/applications/broker',
    app: 'billing',
    payload: { broker_url: `redis://:wrong@127.0.0.1:${port}/0` },
  });
  const refused = await call(owner, { method: 'GET', url: '/v1/broker/queues', app: 'billing' });
  t.equal(refused.status, 401);
  t.equal(code(refused), 401004);
  t.notMatch(JSON.stringify(refused.body), 'wrong', 'the password is not repeated');
});

const missing = celeryMissing();

t.test(
  'against a real Celery worker: retry runs the task again, revoke stops it, queues and purge',
  { skip: missing ?? false },
  async (t) => {
    const { port, url, client } = await ownRedis(t);
    const { call, owner, colleague, stranger, task } = await world(t);
    const set = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url: url } });
    t.equal(set.status, 200);
    await celeryWorker(t, url, client);

    // Retry: a failed task is sent again with its stored args and kwargs; the worker runs it under the new id.
    await task('t-failed', { state: 'FAILED', args: '(2,)', kwargs: "{'b': 40}" });
    const retried = await call(colleague, { method: 'POST', url: '/v1/control/tasks/t-failed/retry', app: 'billing' });
    t.equal(retried.status, 200, JSON.stringify(retried.body));
    t.match(retried.body.task_id, /^[0-9a-f-]{36}$/);
    const ran = await until('the retried task to run', async () => (await client.get(`ran:${retried.body.task_id}`)) ?? undefined);
    t.equal(ran, '42', 'add(2, b=40) ran on the worker');
    // A task recorded on the default exchange ("") goes straight to the queue named by its routing key.
    await task('t-default', { state: 'SUCCEEDED', args: '(1,)', kwargs: '{}', exchange: '' });
    const again = await call(owner, { method: 'POST', url: '/v1/control/tasks/t-default/retry', app: 'billing' });
    t.equal(again.status, 200);
    t.equal(await until('the second retry to run', async () => (await client.get(`ran:${again.body.task_id}`)) ?? undefined), '1');

    // Retry refusals.
    await task('t-running', { state: 'STARTED', args: '(1, 2)' });
    await task('t-truncated', { state: 'FAILED', args: "(1, 'abc...", kwargs: '{}' });
    await task('t-unroutable', { state: 'FAILED', args: '(1, 2)', routing_key: undefined });
    await task('t-nowhere', { state: 'FAILED', args: '(1, 2)', routing_key: 'nobody-listens' });
    const refusals: Array<[string, number, number]> = [
      ['t-running', 412, 412003],
      ['t-truncated', 400, 400004],
      ['t-unroutable', 400, 400006],
      ['t-nowhere', 400, 400006],
      ['no-such-task', 404, 404001],
      ['bad%20id!', 400, 400002],
    ];
    for (const [id, status, errorCode] of refusals) {
      const res = await call(owner, { method: 'POST', url: `/v1/control/tasks/${id}/retry`, app: 'billing' });
      t.equal(res.status, status, id);
      t.equal(code(res), errorCode, id);
    }
    t.equal(code(await call(stranger, { method: 'POST', url: '/v1/control/tasks/t-failed/retry', app: 'billing' })), 404001, 'another org');
    t.equal(code(await call(undefined, { method: 'POST', url: '/v1/control/tasks/t-failed/retry', app: 'billing' })), 401003);
    t.equal(code(await call(owner, { method: 'POST', url: '/v1/control/tasks/t-failed/retry', app: 'nope' })), 404001, 'unknown app');

    // Retry by query: the failed, rejected, revoked or critical tasks of the environment the query selects.
    await task('bulk-1', { state: 'FAILED', args: '(3,)', app_env: 'bulk' });
    await task('bulk-2', { state: 'REVOKED', args: '(4,)', app_env: 'bulk' });
    await task('bulk-3', { state: 'SUCCEEDED', args: '(5,)', app_env: 'bulk' });
    await task('bulk-4', { state: 'FAILED', args: '(6, ...', app_env: 'bulk' });
    await task('bulk-5', { state: 'FAILED', args: '(7,)', app_env: 'bulk', name: 'celery_app.other' });
    const selection = { query: { bool: { must: [{ term: { name: 'celery_app.add' } }] } } };
    const dryRun = await call(colleague, {
      method: 'POST',
      url: '/v1/control/tasks/retry-by-query',
      app: 'billing',
      env: 'bulk',
      payload: { query: selection, dry_run: true },
    });
    t.equal(dryRun.status, 200, JSON.stringify(dryRun.body));
    t.same(
      { ...dryRun.body, ineligible_tasks_ids: [...dryRun.body.ineligible_tasks_ids].sort() },
      {
        eligible_tasks_count: 2,
        ineligible_tasks_count: 2,
        ineligible_tasks_ids: ['bulk-3', 'bulk-4'],
      },
    );
    const before = new Set(await client.keys('ran:*'));
    const bulk = await call(colleague, {
      method: 'POST',
      url: '/v1/control/tasks/retry-by-query',
      app: 'billing',
      env: 'bulk',
      payload: { query: selection, dry_run: false },
    });
    t.equal(bulk.status, 200, JSON.stringify(bulk.body));
    t.match(bulk.body, {
      succeeded_retries_count: 2,
      failed_retries_count: 0,
      failed_retries: [],
      origin: /^shallot@control\.bulk-retry\./,
    });
    const sums = await until('both bulk retries to run', async () => {
      const fresh = (await client.keys('ran:*')).filter((k) => !before.has(k));
      return fresh.length >= 2 ? (await client.mget(...fresh)).sort() : undefined;
    });
    t.same(sums, ['3', '4'], 'add(3) and add(4) ran again; nothing else did');
    const badQuery = await call(colleague, {
      method: 'POST',
      url: '/v1/control/tasks/retry-by-query',
      app: 'billing',
      env: 'bulk',
      payload: { query: { query: { script: { source: 'x' } } }, dry_run: true },
    });
    t.equal(code(badQuery), 400002, 'an unsupported clause is refused');
    t.equal(
      code(await call(colleague, { method: 'POST', url: '/v1/control/tasks/retry-by-query', app: 'billing', payload: { query: {} } })),
      400001,
      'env header missing',
    );

    // Revoke by id: the worker gets Celery's broadcast revoke and skips the task when its message arrives.
    const revokedId = '7f1c2a70-0000-4000-8000-00000000abcd';
    const controlId = '7f1c2a70-0000-4000-8000-00000000ef01';
    await task(revokedId, { state: 'QUEUED', args: '(1, 1)' });
    const revoke = await call(colleague, {
      method: 'POST',
      url: `/v1/control/tasks/${revokedId}/revoke-by-id`,
      app: 'billing',
      payload: { terminate: false, signal: 'SIGTERM' },
    });
    t.equal(revoke.status, 200, JSON.stringify(revoke.body));
    t.same(revoke.body, { acknowledged: true, revocation_count: 1 });
    await new Promise((r) => setTimeout(r, 300));
    celeryClient(url, `add.apply_async((1, 1), task_id='${revokedId}')\nadd.apply_async((5, 5), task_id='${controlId}')`);
    t.equal(await until('the task queued after it to run', async () => (await client.get(`ran:${controlId}`)) ?? undefined), '10');
    t.equal(await client.get(`ran:${revokedId}`), null, 'the revoked task did not run (the one queued after it did)');

    t.equal(
      code(await call(owner, { method: 'POST', url: '/v1/control/tasks/t-failed/revoke-by-id', app: 'billing', payload: {} })),
      412004,
      'finished: not revocable',
    );
    t.equal(
      code(
        await call(owner, {
          method: 'POST',
          url: `/v1/control/tasks/${revokedId}/revoke-by-id`,
          app: 'billing',
          payload: { signal: 'SIGHUP' },
        }),
      ),
      400002,
      'only SIGTERM or SIGKILL',
    );

    // Revoke by name: every unfinished task of that name in the environment; dry run counts them.
    const byName = ['7f1c2a70-0000-4000-8000-0000000000a1', '7f1c2a70-0000-4000-8000-0000000000a2'];
    await task(byName[0] as string, { state: 'RECEIVED', name: 'celery_app.mul' });
    await task(byName[1] as string, { state: 'STARTED', name: 'celery_app.mul' });
    await task('7f1c2a70-0000-4000-8000-0000000000a3', { state: 'STARTED', name: 'celery_app.mul', app_env: 'staging' });
    await task('7f1c2a70-0000-4000-8000-0000000000a4', { state: 'SUCCEEDED', name: 'celery_app.mul' });
    const dry = await call(owner, {
      method: 'POST',
      url: '/v1/control/tasks/celery_app.mul/revoke-by-name?dry_run=true',
      app: 'billing',
      env: 'prod',
      payload: {},
    });
    t.same(dry.body, { revocation_count: 2 });
    const wet = await call(owner, {
      method: 'POST',
      url: '/v1/control/tasks/celery_app.mul/revoke-by-name',
      app: 'billing',
      env: 'prod',
      payload: {},
    });
    t.same(wet.body, { acknowledged: true, revocation_count: 2 });
    const inspected = execFileSync(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'inspect', 'revoked', '--json', '--timeout', '3'], {
      cwd: FIXTURES,
      env: { ...process.env, PYTHONPATH: FIXTURES, SHALLOT_TEST_BROKER_URL: url },
      timeout: 30_000,
    }).toString();
    const revokedOnWorker = Object.values(JSON.parse(inspected) as Record<string, string[]>).flat();
    t.same([...revokedOnWorker].sort(), [revokedId, ...byName].sort(), 'the worker holds exactly the revoked ids (celery inspect revoked)');
    t.equal(
      code(
        await call(owner, {
          method: 'POST',
          url: '/v1/control/tasks/celery_app.nothing/revoke-by-name',
          app: 'billing',
          env: 'prod',
          payload: {},
        }),
      ),
      412004,
    );
    t.equal(
      code(await call(owner, { method: 'POST', url: '/v1/control/tasks/celery_app.mul/revoke-by-name', app: 'billing', payload: {} })),
      400001,
      'env header missing',
    );

    // Queues: lengths from the broker's lists; purge empties one (admins only).
    celeryClient(url, "add.apply_async((1, 1), queue='idle')\nadd.apply_async((2, 2), queue='idle')");
    const queues = await call(colleague, { method: 'GET', url: '/v1/broker/queues?hide_pid_boxes=false', app: 'billing' });
    t.equal(queues.status, 200);
    const idle = queues.body.find((q: Answer) => q.name === 'idle');
    t.same(idle?.messages, { ready: 2, unacknowledged: -1, total: 2 });
    t.ok(idle?.memory > 0, 'memory of the list');
    t.ok(
      queues.body.some((q: Answer) => q.name === 'celery'),
      'the worker’s queue',
    );
    t.ok(
      queues.body.some((q: Answer) => q.name.endsWith('.pidbox')),
      'the worker’s mailbox',
    );
    const hidden = await call(colleague, { method: 'GET', url: '/v1/broker/queues?hide_pid_boxes=true', app: 'billing' });
    t.notOk(
      hidden.body.some((q: Answer) => q.name.endsWith('.pidbox')),
      'mailboxes hidden',
    );
    t.equal(code(await call(colleague, { method: 'GET', url: '/v1/broker/queues?hide_pid_boxes=maybe', app: 'billing' })), 400002);

    t.equal(
      code(await call(colleague, { method: 'DELETE', url: '/v1/broker/queue/idle/purge', app: 'billing' })),
      401002,
      'members may not purge',
    );
    const purge = await call(owner, { method: 'DELETE', url: '/v1/broker/queue/idle/purge', app: 'billing' });
    t.same(purge.body, { purged: 2 });
    t.equal(await client.llen('idle'), 0);
    t.equal(
      code(await call(owner, { method: 'DELETE', url: '/v1/broker/queue/not-bound/purge', app: 'billing' })),
      404004,
      'only bound queues',
    );
    await client.set('not-a-queue', 'x');
    t.equal(code(await call(owner, { method: 'DELETE', url: '/v1/broker/queue/not-a-queue/purge', app: 'billing' })), 404004);
    await task('t-anon-key', { state: 'FAILED', args: '(1,)', exchange: '', routing_key: 'not-a-queue' });
    const anon = await call(owner, { method: 'POST', url: '/v1/control/tasks/t-anon-key/retry', app: 'billing' });
    t.equal(code(anon), 400006, 'the default exchange only reaches queues a worker declared');
    t.equal(await client.get('not-a-queue'), 'x', 'other keys of the broker are never touched');

    // Drift: the newest indexed event of the environment; Redis has no event queue to measure.
    const drift = await call(colleague, { method: 'GET', url: '/v1/broker/drift', app: 'billing', env: 'prod' });
    t.equal(drift.status, 200);
    t.equal(drift.body.queue_name, 'celeryev');
    t.ok(Math.abs(drift.body.latest_event_timestamp - Date.now()) < 120_000, 'latest event time in ms');
    t.same(drift.body.messages, { total: -1, unacked: -1 });
    const empty = await call(colleague, { method: 'GET', url: '/v1/broker/drift', app: 'billing', env: 'dev' });
    t.equal(empty.body.latest_event_timestamp, null, 'no event in that environment');
    t.ok(port > 0);
  },
);

const RABBITMQ = 'amqp://guest:guest@127.0.0.1:5672//';

/** Why the RabbitMQ case cannot run here (Celery missing, or no RabbitMQ on 127.0.0.1:5672), or undefined. */
async function rabbitMissing(): Promise<string | undefined> {
  if (missing) return missing;
  try {
    const connection = await amqpConnect(RABBITMQ, { timeout: 3000 });
    await connection.close();
    return undefined;
  } catch (error) {
    return `no RabbitMQ at 127.0.0.1:5672 (guest/guest): ${(error as Error).message}`;
  }
}
const noRabbit = await rabbitMissing();

t.test('against a real Celery worker on RabbitMQ: retry, revoke, purge; queue listing is 501', { skip: noRabbit ?? false }, async (t) => {
  const results = await ownRedis(t);
  // Names of our own on the shared broker; removed after.
  const queue = `shallot_test_${randomBytes(4).toString('hex')}`;
  const idle = `${queue}_idle`;
  t.teardown(async () => {
    const connection = await amqpConnect(RABBITMQ);
    const channel = await connection.createChannel();
    for (const name of [queue, idle]) {
      await channel.deleteQueue(name).catch(() => {});
      await channel.deleteExchange(name).catch(() => {});
    }
    await connection.close().catch(() => {});
  });
  const { call, owner, colleague, task } = await world(t);
  const set = await call(owner, { method: 'PUT', url: '/v1/applications/broker', app: 'billing', payload: { broker_url: RABBITMQ } });
  t.equal(set.status, 200);
  t.equal(set.body.broker_url, 'amqp://guest:****@127.0.0.1:5672//', 'password masked');
  await celeryWorker(t, RABBITMQ, results.client, queue, results.url);

  await task('r-failed', { state: 'FAILED', args: '(20,)', kwargs: "{'b': 22}", exchange: queue, routing_key: queue, queue });
  const retried = await call(colleague, { method: 'POST', url: '/v1/control/tasks/r-failed/retry', app: 'billing' });
  t.equal(retried.status, 200, JSON.stringify(retried.body));
  t.equal(await until('the retried task to run', async () => (await results.client.get(`ran:${retried.body.task_id}`)) ?? undefined), '42');

  await task('r-nowhere', { state: 'FAILED', args: '(1,)', exchange: queue, routing_key: 'nobody-listens' });
  await task('r-noexchange', { state: 'FAILED', args: '(1,)', exchange: `${queue}_none`, routing_key: queue });
  for (const id of ['r-nowhere', 'r-noexchange']) {
    const res = await call(owner, { method: 'POST', url: `/v1/control/tasks/${id}/retry`, app: 'billing' });
    t.equal(code(res), 400006, id);
  }

  const revokedId = randomUUID();
  const controlId = randomUUID();
  await task(revokedId, { state: 'QUEUED', args: '(1, 1)' });
  const revoke = await call(colleague, { method: 'POST', url: `/v1/control/tasks/${revokedId}/revoke-by-id`, app: 'billing', payload: {} });
  t.same(revoke.body, { acknowledged: true, revocation_count: 1 });
  await new Promise((r) => setTimeout(r, 300));
  celeryClient(
    RABBITMQ,
    `add.apply_async((1, 1), task_id='${revokedId}', queue='${queue}')\nadd.apply_async((6, 6), task_id='${controlId}', queue='${queue}')`,
    results.url,
  );
  t.equal(await until('the task queued after it to run', async () => (await results.client.get(`ran:${controlId}`)) ?? undefined), '12');
  t.equal(await results.client.get(`ran:${revokedId}`), null, 'the revoked task did not run');

  const queues = await call(colleague, { method: 'GET', url: '/v1/broker/queues', app: 'billing' });
  t.equal(queues.status, 501);
  t.match(queues.body.error.reason, /management API/);

  celeryClient(RABBITMQ, `add.apply_async((1, 1), queue='${idle}')\nadd.apply_async((2, 2), queue='${idle}')`, results.url);
  t.equal(code(await call(colleague, { method: 'DELETE', url: `/v1/broker/queue/${idle}/purge`, app: 'billing' })), 401002);
  t.same((await call(owner, { method: 'DELETE', url: `/v1/broker/queue/${idle}/purge`, app: 'billing' })).body, { purged: 2 });
  t.equal(code(await call(owner, { method: 'DELETE', url: `/v1/broker/queue/${queue}_none/purge`, app: 'billing' })), 404004);

  await call(owner, {
    method: 'PUT',
    url: '/v1/applications/broker',
    app: 'billing',
    payload: { broker_url: 'amqp://guest:wrong@127.0.0.1:5672//' },
  });
  t.equal(code(await call(owner, { method: 'POST', url: '/v1/control/tasks/r-failed/retry', app: 'billing' })), 401004, 'wrong password');
});

if (missing) t.comment(`Celery cases skipped: ${missing}`);
if (noRabbit) t.comment(`RabbitMQ case skipped: ${noRabbit}`);
