#!/usr/bin/env node
/**
 * The scheduler with 10,000 events of random schedules, in this process against the local Redis:
 * - minute tick: CPU of evaluating every event for a minute (planning), and the Redis claims that follow;
 * - launch jitter: slot time → the job is on the schedule.launch queue, per launch, without and with precision.
 * The clock runs at real speed but is shifted so minute boundaries come when the bench wants them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConsumer, createRedisWiring } from '../packages/core/dist/index.js';
import { scheduleLaunchQueue } from '../packages/schemas/dist/index.js';
import { QUEUE_DISPATCH_AHEAD_MS, Scheduler, Zones, createQueueLauncher } from '../services/job-runner/dist/index.js';
import { fail, num, quantile, removeRunData, stopOnSignalsAndWatchdog, wholeNumber } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    minutes: { type: 'string', default: '3' },
    'precision-share': { type: 'string', default: '20' },
    seed: { type: 'string', default: '42' },
  },
});
const EVENTS = wholeNumber(args, 'events', 1, 200_000);
const MINUTES = wholeNumber(args, 'minutes', 1, 30);
const PRECISION_SHARE = wholeNumber(args, 'precision-share', 0, 100);
let seed = wholeNumber(args, 'seed', 0, 2 ** 31);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PREFIX = `bench-sched-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'shallot-bench-sched-'));

const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = (from, to, count) => {
  const out = new Set();
  while (out.size < count) out.add(from + Math.floor(random() * (to - from + 1)));
  return [...out];
};
const ZONES = ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles'];

/** Random schedules: a third fire every minute, the rest on a few minutes of some hours, weekdays or days. */
function randomEvents(count, withPrecision) {
  const events = [];
  for (let i = 0; i < count; i++) {
    const schedule = { type: 'schedule', enabled: true, timezone: ZONES[Math.floor(random() * ZONES.length)] };
    const kind = random();
    if (kind < 0.33) {
      // every minute
    } else if (kind < 0.66) {
      schedule.minutes = pick(0, 59, 1 + Math.floor(random() * 10));
    } else if (kind < 0.85) {
      schedule.minutes = pick(0, 59, 1 + Math.floor(random() * 3));
      schedule.hours = pick(0, 23, 1 + Math.floor(random() * 12));
      if (random() < 0.5) schedule.weekdays = pick(0, 6, 1 + Math.floor(random() * 5));
    } else {
      schedule.days = [random() < 0.5 ? -1 : 1 + Math.floor(random() * 28)];
      schedule.hours = pick(0, 23, 2);
    }
    const triggers = [schedule];
    if (withPrecision && random() * 100 < PRECISION_SHARE) {
      triggers.push({ type: 'precision', enabled: true, seconds: pick(0, 59, 1 + Math.floor(random() * 4)) });
    }
    events.push({ id: `e${i}`, enabled: true, category: 'general', triggers });
  }
  return events;
}

const redis = createRedisWiring(REDIS_URL, PREFIX);
const launcher = createQueueLauncher(redis);
let cleaned = false;
const cleanup = async () => {
  if (cleaned) return;
  cleaned = true;
  await launcher.close().catch(() => undefined);
  await redis.close();
  await removeRunData(REDIS_URL, `${PREFIX}:`, dataDir);
};
stopOnSignalsAndWatchdog(cleanup, (MINUTES * 2 + 3) * 60_000);

/** Real speed, shifted: `jumpTo(ms)` moves "now" to ms without stopping the flow of time. */
let offset = 0;
const clock = { now: () => Date.now() + offset };
const jumpTo = (ms) => {
  offset = ms - Date.now();
};

async function phase(label, withPrecision, minutes, wholeMinutes, base) {
  const events = randomEvents(EVENTS, withPrecision);
  const snapshot = { events, categories: new Map([['general', { enabled: true }]]), plugins: new Map() };
  const jitters = [];
  const pickups = [];
  const ticks = [];
  const consumer = createConsumer(
    redis,
    scheduleLaunchQueue,
    async (p) => {
      if (p.now * 1000 >= base) pickups.push(clock.now() - p.now * 1000);
    },
    { concurrency: 200 },
  );
  const scheduler = new Scheduler({
    redis,
    source: { load: async () => snapshot },
    clock,
    instance: `bench-${label}`,
    zones: new Zones('UTC'),
    // As the job-runner wires it: claimed and queued ahead, as delayed jobs.
    dispatchAheadMs: QUEUE_DISPATCH_AHEAD_MS,
    leadMs: QUEUE_DISPATCH_AHEAD_MS + 2000,
    launch: async (batch, nowMs) => {
      // In chunks, so each launch's "queued" time is its chunk's, not the whole batch's.
      for (let i = 0; i < batch.length; i += 250) {
        const chunk = batch.slice(i, i + 250);
        await launcher.launch(chunk, nowMs);
        const queued = clock.now();
        for (const p of chunk) if (p.now * 1000 >= base) jitters.push(queued - p.now * 1000);
      }
    },
  });
  // Start just before the minute `base` is claimed.
  jumpTo(base - QUEUE_DISPATCH_AHEAD_MS - 2500);
  scheduler.start();
  for (let m = 0; m < minutes; m++) {
    const boundary = base + m * 60_000;
    await new Promise((r) => setTimeout(r, Math.max(0, boundary - clock.now())));
    // Let the minute's evaluation (done `leadMs` before the boundary) and its launches finish.
    await new Promise((r) => setTimeout(r, wholeMinutes ? 62_000 : 4000));
    ticks.push({ ...scheduler.lastEvaluation });
    if (m + 1 < minutes) jumpTo(base + (m + 1) * 60_000 - QUEUE_DISPATCH_AHEAD_MS - 2500);
  }
  await scheduler.stop();
  await consumer.close();
  // The next phase starts afresh (its minutes differ, so no claim of this phase refuses one of its own).
  await redis.client.del('scheduler:minute', 'scheduler:pending', 'scheduler:cursors', 'scheduler:lease');
  jitters.sort((a, b) => a - b);
  pickups.sort((a, b) => a - b);
  return { label, ticks, jitters, pickups };
}

async function cpuOfEvaluations(withPrecision) {
  // Planning CPU alone, measured with process.cpuUsage over 20 evaluations of different minutes.
  const { planMinute, schedulableTriggers, isLaunching } = await import('../services/job-runner/dist/index.js');
  const events = randomEvents(EVENTS, withPrecision);
  const catalog = { categories: new Map([['general', { enabled: true }]]), plugins: new Map() };
  const zones = new Zones('UTC');
  const samples = [];
  let launches = 0;
  for (let i = 0; i < 21; i++) {
    const minute = Date.UTC(2026, 5, 1, 12, i * 7) / 1000;
    const before = process.cpuUsage();
    for (const event of events) {
      const triggers = schedulableTriggers(event, catalog);
      if (!isLaunching(triggers)) continue;
      launches += planMinute(event.id, triggers, zones, minute).launches.length;
    }
    const used = process.cpuUsage(before);
    if (i > 0) samples.push((used.user + used.system) / 1000); // the first warms the offset caches up
  }
  samples.sort((a, b) => a - b);
  return { samples, launchesPerMinute: launches / 21 };
}

try {
  await redis.client.ping().catch(() => fail(`no Redis at ${REDIS_URL}`));
  const cpu = await cpuOfEvaluations(true);
  const plain = await phase('no-precision', false, MINUTES, false, Date.UTC(2026, 5, 1, 12, 0, 0));
  const precise = await phase('precision', true, 1, true, Date.UTC(2026, 5, 2, 12, 0, 0));
  const ms = (v) => `${v.toFixed(1)} ms`;
  const lines = [];
  lines.push(
    `scheduler bench: ${num(EVENTS)} events, random schedules in ${ZONES.length} zones; ${PRECISION_SHARE}% with precision in the second phase`,
  );
  lines.push('');
  lines.push(
    `minute tick CPU (planning every event for one minute, 20 minutes): p50 ${ms(quantile(cpu.samples, 0.5))}, max ${ms(cpu.samples.at(-1))}; ~${num(cpu.launchesPerMinute)} launches per minute`,
  );
  for (const run of [plain, precise]) {
    lines.push('');
    lines.push(`${run.label}: ${num(run.jitters.length)} launches over ${run.ticks.length} minute(s)`);
    for (const tick of run.ticks) {
      lines.push(
        `  minute ${new Date(tick.minute * 1000).toISOString().slice(11, 16)}: plan ${ms(tick.planMs)} (wall), claim ${ms(tick.claimMs)}, ${num(tick.claimed)} claimed`,
      );
    }
    const j = run.jitters;
    const late = j.filter((v) => v > 0).length;
    lines.push(
      `  slot → on the queue (negative: queued ahead, delayed until the slot): p50 ${ms(quantile(j, 0.5))}, p99 ${ms(quantile(j, 0.99))}, max ${ms(j.at(-1) ?? Number.NaN)}; ${num(late)} of ${num(j.length)} after their slot`,
    );
    const p = run.pickups;
    lines.push(
      `  slot → runnable and picked up by a consumer (200 concurrent): p50 ${ms(quantile(p, 0.5))}, p99 ${ms(quantile(p, 0.99))}, max ${ms(p.at(-1) ?? Number.NaN)} (${num(p.length)} jobs)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await cleanup();
}
