/**
 * Two real job-runner processes share a Redis and a SQLite store with events firing every few seconds. The leading
 * one is killed with SIGKILL; the other takes over within 10 s and every slot from the first to the last is queued
 * on schedule.launch and consumed exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closeContext, createConsumer, openContext } from '@shallot/core';
import { TEST_REDIS_URL, testConfig } from '@shallot/core/testing';
import { scheduleLaunchQueue } from '@shallot/schemas';
import t from 'tap';
import { KEYS, schedulerStatus } from '../src/scheduler/state.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('kill -9 of the leading runner: a standby takes over within 10 s and every slot runs exactly once', async (t) => {
  const config = testConfig(t);
  const ctx = await openContext(config);
  t.teardown(() => closeContext(ctx));
  const start = Math.floor(Date.now() / 1000);
  await ctx.store.collections.create('categories', { id: 'general', title: 'General', enabled: true });
  await ctx.store.collections.create('events', {
    id: 'every2s',
    title: 'Every two seconds',
    enabled: true,
    category: 'general',
    triggers: [{ type: 'interval', enabled: true, start, duration: 2 }],
  });
  await ctx.store.collections.create('events', {
    id: 'precise',
    title: 'Every minute, at each fifth second',
    enabled: true,
    category: 'general',
    triggers: [
      { type: 'schedule', enabled: true },
      { type: 'precision', enabled: true, seconds: [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55] },
    ],
  });

  const received = new Map<string, number>();
  const consumer = createConsumer(ctx.redis, scheduleLaunchQueue, async (payload) => {
    received.set(payload.key, (received.get(payload.key) ?? 0) + 1);
  });
  t.teardown(() => consumer.close());

  const children = new Map<number, ChildProcess>();
  const runner = (id: string) => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        REDIS_URL: TEST_REDIS_URL,
        SHALLOT_REDIS_PREFIX: config.redisPrefix,
        SHALLOT_DATA_DIR: config.dataDir,
        SHALLOT_PORT: '0',
        SHALLOT_SERVER_ID: id,
        SHALLOT_LOG_LEVEL: 'warn',
        SHALLOT_ADMIN_PASSWORD: 'admin-test-password',
        // This test counts the queue's messages itself: the runners only produce them.
        SHALLOT_SCHEDULE_LAUNCHES: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.set(child.pid ?? 0, child);
    return child;
  };
  t.teardown(() => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  runner('r1');
  runner('r2');

  // Generous: two Node processes starting on a loaded machine can take tens of seconds.
  const first = await waitFor('a leader', async () => (await schedulerStatus(ctx.redis.client)).leader, 90_000);
  const leaderPid = Number(first.instance.split('.')[1]);
  const leader = children.get(leaderPid);
  t.ok(leader, `the leader (${first.instance}) is one of the two runners`);
  await sleep(9000);
  leader?.kill('SIGKILL');
  const killedAt = Date.now();
  const second = await waitFor(
    'a new leader',
    async () => {
      const status = await schedulerStatus(ctx.redis.client);
      return status.leader && status.leader.instance !== first.instance ? status.leader : undefined;
    },
    15_000,
  );
  const takeoverMs = Date.now() - killedAt;
  t.ok(takeoverMs <= 10_000, `taken over in ${takeoverMs} ms`);
  t.ok(second.fence > first.fence, 'with a higher fencing token');
  await sleep(9000);
  const survivor = [...children.values()].find((c) => c.pid !== leaderPid);
  const exited = new Promise((resolve) => survivor?.once('exit', resolve));
  survivor?.kill('SIGTERM');
  await exited;
  await sleep(500);

  const slots = (event: string) =>
    [...received.keys()]
      .filter((k) => k.startsWith(`${event}.`))
      .map((k) => Number(k.split('.')[1]))
      .sort((a, b) => a - b);
  for (const [event, step] of [
    ['every2s', 2],
    ['precise', 5],
  ] as const) {
    const got = slots(event);
    const firstSlot = got[0] ?? 0;
    const lastSlot = got.at(-1) ?? 0;
    const expected: number[] = [];
    for (let s = firstSlot; s <= lastSlot; s += step) expected.push(s);
    // The first leader starts with the next minute it claims (claims run 10 s ahead), so counts vary with timing;
    // what matters is slots on both sides of the kill and none missing in between.
    t.ok(got.length >= 3, `${event}: ${got.length} slots ran`);
    t.ok(firstSlot * 1000 < killedAt, `${event}: slots ran before the kill`);
    t.ok(lastSlot * 1000 > killedAt + takeoverMs, `${event}: and after the takeover`);
    t.same(got, expected, `${event}: every slot from the first to the last, none missing`);
    t.ok(
      got.some((s) => s * 1000 > killedAt && s * 1000 < killedAt + takeoverMs),
      `${event}: slots due while no runner led ran too`,
    );
  }
  t.same(
    [...received.values()].filter((n) => n !== 1),
    [],
    'each slot was consumed once',
  );
  const audit = await ctx.redis.client.xrange(KEYS.launches, '-', '+');
  const claimed = audit.map(([, fields]) => fields[1]);
  t.equal(new Set(claimed).size, claimed.length, 'each slot was claimed once');
  t.ok(
    [...received.keys()].every((k) => claimed.includes(k)),
    'everything consumed was claimed',
  );
});
