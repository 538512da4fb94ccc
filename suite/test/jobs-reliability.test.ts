/**
 * At-least-once with a record (issue 10 "Reliability"), with real processes: a job-runner killed with kill -9
 * mid-job leads to the job completing as aborted "server lost" within 35 s (default heartbeat), and never runs again;
 * a runner restarted gracefully keeps the jobs queued for it; a management process killed during run_event leaves
 * no orphan (every answered id completes, and no job is left waiting for ever).
 */
import {
  JOBS_INDEX,
  JOBS_SCOPE,
  type JobRecord,
  type ServiceContext,
  createApp,
  getActiveJob,
  listActiveJobs,
  prepareApp,
} from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { managementPlugin } from '@shallot/management';
import t from 'tap';
import { freePort, isReady, start, waitFor } from './helpers/processes.js';

// Real processes on a loaded machine: the three scenarios together can pass the suite's 180 s per file.
t.setTimeout(420_000);

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;

function envFor(ctx: ServiceContext, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    SHALLOT_DATA_DIR: ctx.config.dataDir,
    REDIS_URL: ctx.config.redisUrl,
    SHALLOT_REDIS_PREFIX: ctx.config.redisPrefix,
    SHALLOT_SECRET_KEY: ctx.secretKey,
    SHALLOT_ADMIN_PASSWORD: 'admin-test-password',
    SHALLOT_LOG_LEVEL: 'warn',
    SHALLOT_HOST: '127.0.0.1',
    ...extra,
  };
}

/** Management in this process; runners are separate processes. */
async function management(t: Parameters<typeof testContext>[0]) {
  const ctx = await testContext(t);
  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'management');
  await app.register(managementPlugin, { ctx });
  await app.ready();
  t.teardown(() => app.close());
  const login = await app.inject({
    method: 'POST',
    url: '/api/user/login',
    payload: { username: 'admin', password: 'admin-test-password' },
  });
  const session = String(login.json().session_id);
  const call = async (name: string, payload: Json = {}) =>
    (await app.inject({ method: 'POST', url: `/api/app/${name}/v1`, headers: { 'x-session-id': session }, payload })).json() as Json;
  return { ctx, call };
}

async function runner(t: Parameters<typeof testContext>[0], ctx: ServiceContext, id: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const proc = start('services/job-runner/dist/main.js', envFor(ctx, { SHALLOT_SERVER_ID: id, SHALLOT_PORT: String(port), ...extra }), t);
  // Generous: a loaded 2-core machine takes a while to start a Node service.
  await waitFor(() => isReady(`http://127.0.0.1:${port}`), `runner ${id} ready`, proc, 60_000);
  return proc;
}

const shellEvent = (target: string, script: string, extra: Json = {}) => ({
  title: `On ${target}`,
  enabled: true,
  category: 'general',
  plugin: 'shellplug',
  targets: [target],
  algo: 'random',
  params: { script },
  triggers: [{ type: 'manual', enabled: true }],
  ...extra,
});

async function completed(ctx: ServiceContext, id: string, timeoutMs: number): Promise<Json> {
  let job: Json | undefined;
  await waitFor(
    async () => {
      job = await ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, id);
      return !!job;
    },
    `job ${id} completed`,
    undefined,
    timeoutMs,
  );
  return job as Json;
}

t.test('reliability: a runner killed with kill -9 mid-job → the job completes as "server lost" within 35 s, once', async (t) => {
  const { ctx, call } = await management(t);
  // The default heartbeat (10 s; the key lives 3 beats) is what the 35 s promise is about.
  const victim = await runner(t, ctx, 'victim-runner');
  // A second runner keeps a dispatcher (and its lost-server sweep) alive while the victim is dead.
  await runner(t, ctx, 'witness-runner');
  const event = await call('create_event', shellEvent('victim-runner', '#!/bin/sh\necho started\nexec sleep 45'));
  t.equal(event.code, 0, JSON.stringify(event));
  const run = await call('run_event', { id: event.event.id });
  t.equal(run.code, 0, JSON.stringify(run));
  await waitFor(async () => (await getActiveJob(ctx.redis, run.id))?.state === 'active', 'job active', victim);
  const pid = Number((await getActiveJob(ctx.redis, run.id))?.pid);
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  t.teardown(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The script's group is gone already.
    }
  });
  const job = await completed(ctx, run.id, 40_000);
  const seconds = (Date.now() - killedAt) / 1000;
  t.ok(seconds <= 35, `recorded ${seconds.toFixed(1)} s after the kill`);
  t.equal(job.code, 'abort');
  t.match(job.description, /Server lost/);
  t.notOk(await getActiveJob(ctx.redis, run.id), 'no longer active');

  // The runner comes back with the same id: the run message BullMQ redelivers must not run the job again.
  await runner(t, ctx, 'victim-runner');
  await new Promise((r) => setTimeout(r, 3000));
  const after = await ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, run.id);
  t.equal(after?.completed, job.completed, 'the record is untouched: the job did not run twice');
  t.same(await listActiveJobs(ctx.redis), [], 'nothing is running');
});

t.test('reliability: jobs queued for a runner survive its restart', async (t) => {
  const { ctx, call } = await management(t);
  const first = await runner(t, ctx, 'restart-runner', { SHALLOT_HEARTBEAT_SECONDS: '2' });
  const event = await call(
    'create_event',
    shellEvent('restart-runner', '#!/bin/sh\nsleep 1\necho ran', {
      limits: [
        { type: 'job', enabled: true, amount: 1 },
        { type: 'queue', enabled: true, amount: 10 },
      ],
    }),
  );
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await call('run_event', { id: event.event.id })).id);
  await waitFor(async () => (await listActiveJobs(ctx.redis)).filter((j) => j.state === 'queued').length === 2, 'two jobs queued', first);
  // A graceful stop: the running job finishes, the queued ones stay in Redis.
  await first.stop();
  t.same(
    (await listActiveJobs(ctx.redis)).map((j) => j.state),
    ['queued', 'queued'],
    'queued jobs wait while the runner is down',
  );
  await runner(t, ctx, 'restart-runner', { SHALLOT_HEARTBEAT_SECONDS: '2' });
  for (const id of ids) {
    const job = await completed(ctx, id, 20_000);
    t.equal(job.code, 0, `${id} ran`);
    t.match(job.output, /ran/);
  }
});

t.test('reliability: management killed during run_event leaves no orphan', async (t) => {
  const ctx = await testContext(t);
  await ctx.store.indexes.ensure(JOBS_INDEX);
  await runner(t, ctx, 'steady-runner', { SHALLOT_HEARTBEAT_SECONDS: '2' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const mgmt = start('services/management/dist/main.js', envFor(ctx, { SHALLOT_PORT: String(port) }), t);
  await waitFor(() => isReady(base), 'management ready', mgmt, 60_000);
  const login = (await (
    await fetch(`${base}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-test-password' }),
    })
  ).json()) as Json;
  const headers = { 'content-type': 'application/json', 'x-session-id': String(login.session_id) };
  const post = async (name: string, body: Json) =>
    (await (await fetch(`${base}/api/app/${name}/v1`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as Json;
  const event = await post('create_event', { ...shellEvent('steady-runner', '#!/bin/sh\necho ok'), algo: 'random' });
  t.equal(event.code, 0, JSON.stringify(event));

  // Many run_event calls in flight, then the process dies mid-way.
  const answered: string[] = [];
  let failed = 0;
  const calls = Array.from({ length: 60 }, (_, i) =>
    new Promise((r) => setTimeout(r, i * 5))
      .then(() => post('run_event', { id: event.event.id }))
      .then((a) => (a.code === 0 ? answered.push(a.id) : failed++))
      .catch(() => failed++),
  );
  await new Promise((r) => setTimeout(r, 120));
  mgmt.child.kill('SIGKILL');
  await Promise.all(calls);
  t.ok(failed > 0, `the crash cut some calls short (${answered.length} answered, ${failed} failed)`);

  // Every answered id is a job that completes; nothing is left waiting (the sweep re-dispatches stale ready jobs).
  for (const id of answered) t.equal((await completed(ctx, id, 20_000)).code, 0, `answered ${id} completed`);
  await waitFor(async () => (await listActiveJobs(ctx.redis)).length === 0, 'no job left active', undefined, 20_000);

  // The window between the job write and its dispatch message, made on purpose: the sweep still runs the job.
  const orphan: JobRecord = {
    id: 'jorphan0000000001',
    event: event.event.id,
    category: 'general',
    plugin: 'shellplug',
    targets: ['steady-runner'],
    algo: 'random',
    params: { script: '#!/bin/sh\necho adopted' },
    limits: [],
    actions: [],
    tags: [],
    state: 'ready',
    started: Date.now() / 1000 - 10,
    updated: Date.now() / 1000 - 10,
  };
  await ctx.redis.client.set(`job:${orphan.id}`, JSON.stringify(orphan));
  await ctx.redis.client.zadd('jobs:active', orphan.started as number, orphan.id);
  const adopted = await completed(ctx, orphan.id, 20_000);
  t.equal(adopted.code, 0);
  t.match(adopted.output, /adopted/);
});
