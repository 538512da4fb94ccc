/**
 * The scheduler on a fake clock against a real Redis: the exact (event, slot) pairs launched through DST changes,
 * month ends, a leap year, downtime (catch-up), the time machine, pausing, and a leader change.
 */
import { type ServiceContext, readGlobalState } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import type { ScheduleLaunchPayload, Trigger } from '@shallot/schemas';
import t from 'tap';
import type { SchedulableEvent } from '../src/scheduler/match.js';
import { type EventSource, Scheduler, type SchedulerOptions, type ScheduleSnapshot } from '../src/scheduler/scheduler.js';
import { KEYS, schedulerStatus, setEventCursor, setSchedulerEnabled } from '../src/scheduler/state.js';
import { Zones } from '../src/scheduler/zone.js';

const at = (iso: string) => Date.parse(iso);
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace('.000', '');

class FakeClock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
}

class Events implements EventSource {
  events: SchedulableEvent[] = [];
  categories = new Map<string, { enabled?: unknown }>([['general', { enabled: true }]]);
  plugins = new Map<string, { enabled?: unknown }>();
  add(id: string, triggers: Trigger[], fields: Partial<SchedulableEvent> = {}) {
    this.events.push({ id, enabled: true, category: 'general', triggers, ...fields });
  }
  async load(): Promise<ScheduleSnapshot> {
    return { events: this.events, categories: this.categories, plugins: this.plugins };
  }
}

function harness(ctx: ServiceContext, clock: FakeClock, source: Events, overrides: Partial<SchedulerOptions> = {}) {
  const launched: ScheduleLaunchPayload[] = [];
  const scheduler = new Scheduler({
    redis: ctx.redis,
    source,
    clock,
    instance: overrides.instance ?? 'a',
    zones: new Zones('UTC'),
    launch: async (batch) => {
      launched.push(...batch);
    },
    pollMs: 60_000,
    leaseMs: 30_000,
    ...overrides,
  });
  const pairs = () => launched.map((l) => `${l.event}@${iso(l.now)}`);
  return { scheduler, launched, pairs };
}

/** Ticks at every wake-up the scheduler asks for (each slot's second, each minute's lead) until `until`. */
async function runUntil(scheduler: Scheduler, clock: FakeClock, until: number) {
  while (clock.t < until) {
    await scheduler.tick();
    clock.t = Math.min(until, Math.max(clock.t + 1, scheduler.nextWakeMs()));
  }
  await scheduler.tick();
}

const schedule = (fields: Record<string, unknown>): Trigger => ({ type: 'schedule', enabled: true, ...fields }) as Trigger;

t.test('DST: a skipped wall time never runs, a repeated one runs once, other zones are unaffected', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('ny', [schedule({ timezone: 'America/New_York', minutes: [30], hours: [0, 1, 2, 3] })]);
  source.add('london', [schedule({ timezone: 'Europe/London', minutes: [0], hours: [5, 6] })]);
  const clock = new FakeClock(at('2026-11-01T03:59:00Z'));
  const { scheduler, pairs } = harness(ctx, clock, source);
  await runUntil(scheduler, clock, at('2026-11-01T09:00:00Z'));
  // New York: 00:30 EDT (04:30Z), 01:30 EDT (05:30Z), 01:30 EST again (06:30Z) skipped, 02:30 EST (07:30Z), 03:30 (08:30Z).
  t.same(pairs(), [
    'ny@2026-11-01T04:30:00Z',
    'london@2026-11-01T05:00:00Z',
    'ny@2026-11-01T05:30:00Z',
    'london@2026-11-01T06:00:00Z',
    'ny@2026-11-01T07:30:00Z',
    'ny@2026-11-01T08:30:00Z',
  ]);

  const spring = await testContext(t);
  const clock2 = new FakeClock(at('2026-03-08T04:59:00Z'));
  const run2 = harness(spring, clock2, source);
  await runUntil(run2.scheduler, clock2, at('2026-03-08T09:00:00Z'));
  // 02:30 does not exist on 2026-03-08 in New York; 01:30 EST = 06:30Z, 03:30 EDT = 07:30Z.
  t.same(
    run2.pairs().filter((p) => p.startsWith('ny')),
    ['ny@2026-03-08T05:30:00Z', 'ny@2026-03-08T06:30:00Z', 'ny@2026-03-08T07:30:00Z'],
  );
});

t.test('catch-up: downtime over a month end in a leap year replays every missed slot with now = the slot', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('monthly', [schedule({ days: [-1], hours: [23], minutes: [0] }), { type: 'catchup', enabled: true }]);
  source.add('plain', [schedule({ days: [-1], hours: [23], minutes: [0] })]);
  const clock = new FakeClock(at('2028-01-30T12:00:00Z'));
  const { scheduler, pairs, launched } = harness(ctx, clock, source, { maxReplayMinutes: 100_000 });
  await scheduler.tick();
  t.same(pairs(), [], 'nothing due at the start');
  // Down until 2028-03-01 10:00: Jan 31 23:00 and Feb 29 23:00 were missed.
  clock.t = at('2028-03-01T10:00:00Z');
  await scheduler.tick();
  t.same(pairs(), ['monthly@2028-01-31T23:00:00Z', 'monthly@2028-02-29T23:00:00Z'], 'only the catch-up event replays');
  t.same(
    launched.map((l) => [l.key, l.source, l.fence > 0]),
    [
      [`monthly.${at('2028-01-31T23:00:00Z') / 1000}`, 'scheduler', true],
      [`monthly.${at('2028-02-29T23:00:00Z') / 1000}`, 'scheduler', true],
    ],
  );
  t.equal(await ctx.redis.client.hget(KEYS.cursors, 'monthly'), String(at('2028-03-01T10:00:00Z') / 1000), 'the cursor moved to now');

  // Time machine: back to Feb 1; Feb 29 runs again, as a new launch (its own key).
  await setEventCursor(ctx.redis.client, 'monthly', at('2028-02-01T00:00:00Z') / 1000);
  clock.t = at('2028-03-01T10:01:00Z');
  await scheduler.tick();
  t.same(pairs().slice(2), ['monthly@2028-02-29T23:00:00Z']);
  t.match(launched[2]?.key, /\.g1$/);
});

t.test('pausing: nothing runs and catch-up cursors stay; on resume only catch-up events replay', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('every', [schedule({ minutes: [0, 15, 30, 45] }), { type: 'catchup', enabled: true }]);
  source.add('plain', [schedule({ minutes: [0, 15, 30, 45] })]);
  const clock = new FakeClock(at('2026-06-01T09:59:30Z'));
  const { scheduler, pairs } = harness(ctx, clock, source);
  await runUntil(scheduler, clock, at('2026-06-01T10:00:30Z'));
  t.same(pairs(), ['every@2026-06-01T10:00:00Z', 'plain@2026-06-01T10:00:00Z']);
  await setSchedulerEnabled(ctx.redis.client, false);
  await runUntil(scheduler, clock, at('2026-06-01T10:40:00Z'));
  t.equal(pairs().length, 2, 'paused');
  t.equal((await schedulerStatus(ctx.redis.client)).enabled, false);
  t.equal(await ctx.redis.client.hget(KEYS.cursors, 'every'), String(at('2026-06-01T10:00:00Z') / 1000));
  await setSchedulerEnabled(ctx.redis.client, true);
  await runUntil(scheduler, clock, at('2026-06-01T10:45:10Z'));
  t.same(pairs().slice(2), [
    'every@2026-06-01T10:15:00Z',
    'every@2026-06-01T10:30:00Z',
    'every@2026-06-01T10:45:00Z',
    'plain@2026-06-01T10:45:00Z',
  ]);
});

t.test('modifiers: precision seconds go out at their second, nth gates, disabled events and categories fire nothing', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('precise', [schedule({}), { type: 'precision', enabled: true, seconds: [0, 30] }]);
  source.add('third', [schedule({}), { type: 'nth', enabled: true, every: 3 }]);
  source.add('off', [schedule({})], { enabled: false });
  source.add('hidden', [schedule({})], { category: 'closed' });
  source.add('manual', [{ type: 'manual', enabled: true }]);
  source.categories.set('closed', { enabled: false });
  const clock = new FakeClock(at('2026-01-01T00:00:00Z'));
  const launchedAt: Array<[string, number]> = [];
  const { scheduler, pairs } = harness(ctx, clock, source, {
    leadMs: 0,
    launch: async (batch) => {
      for (const l of batch) launchedAt.push([`${l.event}@${iso(l.now)}`, clock.t]);
    },
  });
  await runUntil(scheduler, clock, at('2026-01-01T00:05:50Z'));
  void pairs;
  t.same(
    launchedAt.filter(([p]) => p.startsWith('precise')).map(([p, when]) => [p, iso(when / 1000)]),
    [0, 1, 2, 3, 4, 5].flatMap((m) =>
      [0, 30].map((s) => {
        const slot = iso(at('2026-01-01T00:00:00Z') / 1000 + m * 60 + s);
        return [`precise@${slot}`, slot];
      }),
    ),
    'each slot handed on at its own second',
  );
  t.same(
    launchedAt.filter(([p]) => !p.startsWith('precise')).map(([p]) => p),
    ['third@2026-01-01T00:00:00Z', 'third@2026-01-01T00:03:00Z'],
  );
});

t.test('handover: the standby takes over after the lease, hands on what the leader claimed, and nothing runs twice', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('precise', [schedule({}), { type: 'precision', enabled: true, seconds: [0, 20, 40] }]);
  source.add('minutely', [schedule({})]);
  const clock = new FakeClock(at('2026-01-01T00:00:00Z'));
  const shared: string[] = [];
  const recorder = (who: string) => async (batch: ScheduleLaunchPayload[]) => {
    for (const l of batch) shared.push(`${who}:${l.event}@${iso(l.now)}`);
  };
  const a = new Scheduler({
    redis: ctx.redis,
    source,
    clock,
    instance: 'a',
    zones: new Zones('UTC'),
    launch: recorder('a'),
    leaseMs: 300,
    pollMs: 100,
    leadMs: 0,
  });
  const b = new Scheduler({
    redis: ctx.redis,
    source,
    clock,
    instance: 'b',
    zones: new Zones('UTC'),
    launch: recorder('b'),
    leaseMs: 300,
    pollMs: 100,
    leadMs: 0,
  });
  await a.tick();
  await b.tick();
  t.ok(a.isLeader);
  t.notOk(b.isLeader, 'one leader at a time');
  t.same(shared, ['a:precise@2026-01-01T00:00:00Z', 'a:minutely@2026-01-01T00:00:00Z']);
  // a dies (no more ticks, no release). Its lease runs out in real time.
  clock.t = at('2026-01-01T00:00:25Z');
  await b.tick();
  t.notOk(b.isLeader, 'the lease still holds');
  await new Promise((resolve) => setTimeout(resolve, 400));
  await b.tick();
  t.ok(b.isLeader, 'the standby took over');
  t.ok(b.fence > a.fence, 'with a higher fencing token');
  clock.t = at('2026-01-01T00:00:40Z');
  await b.tick();
  // a comes back (a paused process): its lease is gone, so it launches nothing, even for a new minute.
  clock.t = at('2026-01-01T00:01:00Z');
  await a.tick();
  t.notOk(a.isLeader);
  await b.tick();
  t.same(shared, [
    'a:precise@2026-01-01T00:00:00Z',
    'a:minutely@2026-01-01T00:00:00Z',
    'b:precise@2026-01-01T00:00:20Z',
    'b:precise@2026-01-01T00:00:40Z',
    'b:precise@2026-01-01T00:01:00Z',
    'b:minutely@2026-01-01T00:01:00Z',
  ]);
  const status = await schedulerStatus(ctx.redis.client);
  t.equal(status.leader?.instance, 'b');
  t.equal(status.minute, at('2026-01-01T00:01:00Z') / 1000);
  const state = await readGlobalState(ctx.redis.client);
  t.match(
    state.scheduler,
    { enabled: true, leader: { instance: 'b' }, minute: at('2026-01-01T00:01:00Z') / 1000 },
    'get_global_state shows it',
  );

  // A leader that dies after claiming a minute but before marking it: the next one re-evaluates the minute and
  // every claim is refused, so nothing is launched twice.
  await ctx.redis.client.set(KEYS.minute, String(at('2026-01-01T00:00:00Z') / 1000));
  await b.stop();
  const c = new Scheduler({
    redis: ctx.redis,
    source,
    clock,
    instance: 'c',
    zones: new Zones('UTC'),
    launch: recorder('c'),
    leaseMs: 300,
    pollMs: 100,
    leadMs: 0,
  });
  clock.t = at('2026-01-01T00:01:05Z');
  await c.tick();
  t.ok(c.isLeader);
  t.equal(shared.filter((s) => s.startsWith('c:')).length, 0, 'claims of 00:01 refused');
  const audit = await ctx.redis.client.xrange(KEYS.launches, '-', '+');
  const keys = audit.map(([, fields]) => fields[1]);
  t.equal(new Set(keys).size, keys.length, 'every claim is unique');
  t.equal(keys.length, 8, 'six handed on, and precise 00:01:20 and 00:01:40 claimed for later');
  t.equal((await schedulerStatus(ctx.redis.client)).pending, 2);
  clock.t = at('2026-01-01T00:01:40Z');
  await c.tick();
  t.same(shared.slice(6), ['c:precise@2026-01-01T00:01:20Z', 'c:precise@2026-01-01T00:01:40Z'], 'the claimed slots go out once, from c');
  await c.stop();
});

t.test('startup triggers fire once when a young process first leads, not from an old one, never with modifiers', async (t) => {
  const ctx = await testContext(t);
  const source = new Events();
  source.add('boot', [
    { type: 'startup', enabled: true, tags: ['boot'] },
    { type: 'delay', enabled: true, duration: 60 },
  ]);
  source.add('plain', [schedule({ minutes: [30] })]);
  const clock = new FakeClock(at('2026-01-01T00:00:10Z'));
  const young = harness(ctx, clock, source, { uptime: () => 12 });
  await young.scheduler.tick();
  await young.scheduler.tick();
  t.same(
    young.launched.map((l) => [l.key, l.source, l.now, l.tags, l.state]),
    [['boot.startup.f1', 'startup', at('2026-01-01T00:00:10Z') / 1000, ['boot'], undefined]],
  );
  await young.scheduler.stop();
  const old = harness(ctx, clock, source, { uptime: () => 301, instance: 'old' });
  await old.scheduler.tick();
  t.ok(old.scheduler.isLeader);
  t.same(old.launched, [], 'a process up for more than 5 minutes does not fire startup triggers');
  await old.scheduler.stop();
});
