/**
 * schedule.launch → jobs: a real job-runner (real Redis, SQLite) turns each scheduled launch into exactly one job,
 * however often the message is delivered, and skips launches of events that were deleted or disabled since.
 */
import { JOBS_INDEX, JOBS_SCOPE, createApp, createProducer, listActiveJobs, prepareApp, readEventState } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { type ScheduleLaunchPayload, scheduleLaunchQueue } from '@shallot/schemas';
import t from 'tap';
import { jobRunnerPlugin } from '../src/plugin.js';
import { type SchedulerSettings, Scheduler, StoreEventSource, createQueueLauncher, launchJobId } from '../src/index.js';

const SERVER = 'launch-runner-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(t: Parameters<typeof testContext>[0], scheduler: false | SchedulerSettings = false) {
  const ctx = await testContext(t, { serverId: SERVER, heartbeatSeconds: 1, shutdownTimeoutMs: 3000 });
  await ctx.store.collections.create('categories', { id: 'general', title: 'General', enabled: true });
  await ctx.store.collections.create('plugins', {
    id: 'testplug',
    title: 'Test Plugin',
    type: 'event',
    command: '[test-plugin]',
    enabled: true,
  });
  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'job-runner');
  await app.register(jobRunnerPlugin, { ctx, scheduler });
  await app.ready();
  t.teardown(() => app.close());
  const producer = createProducer(ctx.redis, scheduleLaunchQueue);
  t.teardown(() => producer.close());
  return { ctx, app, producer };
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: id,
  enabled: true,
  category: 'general',
  plugin: 'testplug',
  targets: [SERVER],
  algo: 'random',
  params: { duration: 0, custom: 'from the event' },
  tags: ['nightly'],
  triggers: [{ type: 'schedule', enabled: true, minutes: [0] }],
  ...extra,
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

t.test('a launch delivered three times (twice at once) creates exactly one job, which completes', async (t) => {
  const { ctx, producer } = await setup(t);
  await ctx.store.collections.create('events', event('nightly'));
  const now = Math.floor(Date.now() / 1000) - 1;
  const payload: ScheduleLaunchPayload = {
    key: `nightly.${now}`,
    event: 'nightly',
    now,
    minute: now - (now % 60),
    source: 'scheduler',
    params: { custom: 'from the launch' },
    tags: ['scheduled'],
    data: { answer: 42 },
    fence: 1,
  };
  // Distinct BullMQ ids: the queue would drop a same-id duplicate itself; this is a redelivery it cannot see.
  await Promise.all([producer.add(payload, { jobId: 'copy-a' }), producer.add(payload, { jobId: 'copy-b' })]);
  const id = launchJobId(payload);
  const job = await waitFor('the job to complete', async () => ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, id));
  t.equal(job.state, 'complete');
  t.equal(job.code, 0, 'the test plugin succeeded');
  t.equal(job.event, 'nightly');
  t.equal(job.source, 'scheduler');
  t.equal(job.now, now, 'the job runs for its slot');
  t.same(job.params, { duration: 0, custom: 'from the launch' }, 'launch params merged over the event params');
  t.ok((job.tags as string[]).includes('nightly') && (job.tags as string[]).includes('scheduled'), 'tags appended');
  t.same((job.input as { data: unknown }).data, { answer: 42 });

  // A late redelivery, after the job completed.
  await producer.add(payload, { jobId: 'copy-c' });
  await sleep(1500);
  t.equal(await ctx.store.indexes.count(JOBS_INDEX.name, JOBS_SCOPE), 1, 'one job in the index');
  t.same(await listActiveJobs(ctx.redis), [], 'and none active');
  // The job id alone would hide a second run of the same id: the event's run counter counts completions.
  t.equal(Number((await readEventState(ctx.redis, 'nightly')).total_count), 1, 'the event ran once');
  t.equal(launchJobId(payload), id, 'the job id is a function of the launch');
  t.not(launchJobId({ ...payload, key: `nightly.${now}.g1` }), id, 'a replayed (time machine) slot gets a new job');
  t.equal(id.length, 16);
});

t.test('launches of a deleted or disabled event, or one in a disabled category, create no job', async (t) => {
  const { ctx, producer } = await setup(t);
  await ctx.store.collections.create('events', event('off', { enabled: false }));
  await ctx.store.collections.create('categories', { id: 'paused', title: 'Paused', enabled: false });
  await ctx.store.collections.create('events', event('paused-cat', { category: 'paused' }));
  await ctx.store.collections.create('events', event('fine'));
  const now = Math.floor(Date.now() / 1000);
  const launch = (id: string): ScheduleLaunchPayload => ({
    key: `${id}.${now}`,
    event: id,
    now,
    minute: now,
    source: 'scheduler',
    fence: 1,
  });
  for (const id of ['gone', 'off', 'paused-cat']) await producer.add(launch(id), { jobId: launch(id).key });
  // Sent last: once its job completed, the others had their turn on the same queue.
  await producer.add(launch('fine'), { jobId: launch('fine').key });
  await waitFor('the enabled event to run', async () => ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, launchJobId(launch('fine'))));
  await sleep(500);
  t.equal(await ctx.store.indexes.count(JOBS_INDEX.name, JOBS_SCOPE), 1, 'only the enabled event ran');
  t.same(await listActiveJobs(ctx.redis), []);
});

t.test('the scheduler and the consumer together: an interval event runs as scheduled jobs', async (t) => {
  const { ctx } = await setup(t, false);
  const start = Math.floor(Date.now() / 1000);
  await ctx.store.collections.create('events', event('every2s', { triggers: [{ type: 'interval', enabled: true, start, duration: 2 }] }));
  // A scheduler driven by hand with a clock of our own, launching into the real queue the runner consumes.
  const launcher = createQueueLauncher(ctx.redis);
  t.teardown(() => launcher.close());
  let clock = (start + 4) * 1000;
  const scheduler = new Scheduler({
    redis: ctx.redis,
    source: new StoreEventSource(ctx.store),
    launch: launcher.launch,
    instance: 'test-scheduler',
    clock: { now: () => clock },
  });
  t.teardown(() => scheduler.stop());
  await scheduler.tick();
  clock += 2000;
  await scheduler.tick();
  const jobs = await waitFor('two scheduled jobs', async () => {
    const { hits } = await ctx.store.indexes.search(JOBS_INDEX.name, JOBS_SCOPE, { limit: 10 });
    return hits.length >= 2 ? hits : undefined;
  });
  const slots = jobs.map((j) => j.now as number).sort();
  t.ok(
    slots.every((s) => (s - start) % 2 === 0 && s >= start),
    `slots on the interval: ${slots.map((s) => s - start)}`,
  );
  t.equal(new Set(slots).size, slots.length, 'one job per slot');
  t.ok(jobs.every((j) => j.source === 'scheduler' && j.code === 0 && j.event === 'every2s'));
});

t.test('launches due at the same second are staggered by scheduler_stagger_ms, in order', async (t) => {
  const ctx = await testContext(t, { serverId: SERVER });
  const launcher = createQueueLauncher(ctx.redis, { staggerMs: 400 });
  t.teardown(() => launcher.close());
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000) + 60;
  const payload = (event: string, at: number): ScheduleLaunchPayload => ({
    key: `${event}.${at}`,
    event,
    now: at,
    minute: at,
    source: 'scheduler',
    fence: 1,
  });
  await launcher.launch([payload('a', now), payload('b', now), payload('c', now), payload('d', now + 1)], nowMs);
  const delays = await Promise.all(['a', 'b', 'c'].map(async (e) => (await launcher.producer.queue.getJob(`${e}.${now}`))?.opts.delay));
  const base = now * 1000 - nowMs;
  t.same(delays, [base, base + 400, base + 800], 'the k-th launch of a second waits k × 400 ms more');
  t.equal((await launcher.producer.queue.getJob(`d.${now + 1}`))?.opts.delay, base + 1000, 'another second starts its own count');
});
