import { createApp, createProducer, prepareApp } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { type NotifyPayload, type RunPayload, notifyQueue, runQueue } from '@shallot/schemas';
import t from 'tap';
import { type JobRunnerOptions, jobRunnerPlugin } from '../src/plugin.js';
import { onlineServers, serverKey } from '../src/server-registry.js';

async function runner(t: Parameters<typeof testContext>[0], handlers: JobRunnerOptions['handlers'] = {}, serverId = 'runner-test-1') {
  const ctx = await testContext(t, { serverId, heartbeatSeconds: 1, shutdownTimeoutMs: 3000 });
  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'job-runner');
  await app.register(jobRunnerPlugin, { ctx, handlers });
  await app.ready();
  return { app, ctx };
}

t.test('job-runner registers itself as a server with a heartbeat, and leaves on close', async (t) => {
  const { app, ctx } = await runner(t);
  const online = await onlineServers(ctx.redis, 5);
  t.equal(online.length, 1);
  t.equal(online[0]?.id, 'runner-test-1');
  t.equal(online[0]?.pid, process.pid);
  const ttl = await ctx.redis.client.ttl(serverKey('runner-test-1'));
  t.ok(ttl > 0 && ttl <= 3, `heartbeat key expires unless renewed (ttl ${ttl})`);
  const first = online[0]?.heartbeat ?? 0;
  await new Promise((r) => setTimeout(r, 1300));
  const renewed = await onlineServers(ctx.redis, 5);
  t.ok((renewed[0]?.heartbeat ?? 0) > first, 'the heartbeat is renewed');
  await app.close();
  t.same(await onlineServers(ctx.redis, 5), [], 'a closed runner is no longer online');
});

t.test('job-runner consumes its own run queue and the notify queue', async (t) => {
  const runs: RunPayload[] = [];
  const notes: NotifyPayload[] = [];
  let bothDone!: () => void;
  const done = new Promise<void>((r) => (bothDone = r));
  const check = () => runs.length === 1 && notes.length === 1 && bothDone();
  const { app, ctx } = await runner(t, {
    run: async (p) => {
      runs.push(p);
      check();
    },
    notify: async (p) => {
      notes.push(p);
      check();
    },
  });
  t.teardown(() => app.close());
  const run = createProducer(ctx.redis, runQueue('runner-test-1'));
  const notify = createProducer(ctx.redis, notifyQueue);
  t.teardown(() => Promise.all([run.close(), notify.close()]));
  await run.add({ job_id: 'jtest1', event: 'etest' });
  await notify.add({ kind: 'slack', data: { text: 'hello' } });
  await done;
  t.same(runs, [{ job_id: 'jtest1', event: 'etest' }]);
  t.same(notes, [{ kind: 'slack', data: { text: 'hello' } }]);
});

t.test('job-runner retries a failed notification', async (t) => {
  const attempts: number[] = [];
  let succeeded!: () => void;
  const done = new Promise<void>((r) => (succeeded = r));
  const { app, ctx } = await runner(t, {
    notify: async (_p, job) => {
      attempts.push(job.attemptsMade);
      if (attempts.length < 3) throw new Error('receiver down');
      succeeded();
    },
  });
  t.teardown(() => app.close());
  const notify = createProducer(ctx.redis, notifyQueue, { attempts: 5, backoff: { type: 'fixed', delay: 50 } });
  t.teardown(() => notify.close());
  await notify.add({ kind: 'web_hook', data: {} });
  await done;
  t.same(attempts, [0, 1, 2]);
});

t.test('job-runner close waits for a running job before leaving', async (t) => {
  let finished = false;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const { app, ctx } = await runner(t, {
    run: async () => {
      started();
      await new Promise((r) => setTimeout(r, 400));
      finished = true;
    },
  });
  const run = createProducer(ctx.redis, runQueue('runner-test-1'));
  t.teardown(() => run.close());
  await run.add({ job_id: 'jslow' });
  await running;
  await app.close();
  t.equal(finished, true, 'the running job finished before close resolved');
  const job = (await run.queue.getCompleted())[0];
  t.equal(job?.data.job_id, 'jslow', 'and it is recorded as completed');
});
