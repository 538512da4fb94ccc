#!/usr/bin/env node
/**
 * The jobs engine, all-in-one (every service in this process, as `pnpm start` runs them), on loopback:
 *
 *   pnpm bench:jobs                        (builds first)
 *   node bench/jobs.mjs [--latency-runs 50] [--noop-jobs 1000] [--tail-jobs 20] [--tail-mb 2] [--json FILE]
 *
 * Three phases:
 *   - latency: --latency-runs sequential run_event calls of a zero-duration test-plugin event on an idle runner;
 *              the figure is the job's `started` (set when it turns `active` on the runner) minus the moment the
 *              request was sent: p50 / p99 (goal 10 / 50 ms);
 *   - no-op:   --noop-jobs run_event calls queued as fast as they are answered, then the rate at which completed
 *              jobs are recorded (the `jobs` index), and the RSS before and after (goal ≥ 2,000 jobs/s);
 *   - tail:    --tail-jobs shell jobs at once, each printing --tail-mb MB of time-stamped lines; the live log of
 *              each is tailed (tail_live_job_log) every 100 ms and the age of the newest line seen is the tail
 *              latency: p50 / p99 (goal p99 ≤ 250 ms), with the RSS.
 * Uses a temporary data dir and a unique Redis key prefix (REDIS_URL, default redis://127.0.0.1:6379), removed on
 * exit. A watchdog stops the run at 10 minutes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, fail, num, quantile, removeRunData, wholeNumber } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    'latency-runs': { type: 'string', default: '50' },
    'noop-jobs': { type: 'string', default: '1000' },
    'tail-jobs': { type: 'string', default: '20' },
    'tail-mb': { type: 'string', default: '2' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node bench/jobs.mjs [--latency-runs N] [--noop-jobs N] [--tail-jobs N] [--tail-mb MB] [--json FILE]\n');
  process.exit(0);
}
const LATENCY_RUNS = wholeNumber(args, 'latency-runs', 1, 10_000);
const NOOP_JOBS = wholeNumber(args, 'noop-jobs', 0, 100_000);
const TAIL_JOBS = wholeNumber(args, 'tail-jobs', 0, 200);
const TAIL_MB = wholeNumber(args, 'tail-mb', 1, 100);

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `bench-jobs-${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'shallot-bench-jobs-'));
const watchdog = setTimeout(() => {
  process.stderr.write('bench: watchdog: stopping after 10 minutes\n');
  process.exit(1);
}, 600_000);
watchdog.unref();

const core = await import(join(ROOT, 'packages/core/dist/index.js')).catch(() => fail('run `pnpm build` first'));
const { buildSuite } = await import(join(ROOT, 'suite/dist/suite.js'));
const config = core.loadConfig(
  {},
  { dataDir, redisUrl, redisPrefix: prefix, logLevel: 'silent', adminPassword: 'bench-admin-pw', serverId: 'bench-runner', port: 0 },
);
const ctx = await core.openContext(config);
const app = await buildSuite(ctx);
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${app.server.address().port}`;
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

let session = '';
async function call(name, body = {}) {
  const res = await fetch(`${base}/api/app/${name}/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': session },
    body: JSON.stringify(body),
  });
  return res.json();
}
const login = await (
  await fetch(`${base}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-pw' }),
  })
).json();
session = login.session_id;

async function makeEvent(title, plugin, params) {
  const answer = await call('create_event', {
    title,
    enabled: true,
    category: 'general',
    plugin,
    targets: ['bench-runner'],
    algo: 'random',
    params,
    triggers: [{ type: 'manual', enabled: true }],
  });
  if (answer.code !== 0) fail(`create_event: ${JSON.stringify(answer)}`);
  return answer.event.id;
}
const stored = (id) => ctx.store.indexes.get(core.JOBS_INDEX.name, core.JOBS_SCOPE, id);
async function waitStored(id, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await stored(id);
    if (job) return job;
    if (Date.now() > until) fail(`job ${id} did not complete`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const results = { machine: { cpus: cpus().length, model: cpus()[0]?.model }, latency: {}, noop: {}, tail: {} };
try {
  // Phase 1: run_event → active.
  const noop = await makeEvent('No-op', 'testplug', { duration: 0, action: 'Success' });
  for (let i = 0; i < 5; i++) await waitStored((await call('run_event', { id: noop })).id);
  const latencies = [];
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const sent = Date.now() / 1000;
    const { id } = await call('run_event', { id: noop });
    const job = await waitStored(id);
    latencies.push((job.started - sent) * 1000);
  }
  latencies.sort((a, b) => a - b);
  results.latency = { runs: LATENCY_RUNS, p50_ms: quantile(latencies, 0.5), p99_ms: quantile(latencies, 0.99), max_ms: latencies.at(-1) };
  process.stdout.write(
    `latency  run_event → active: p50 ${results.latency.p50_ms.toFixed(1)} ms, p99 ${results.latency.p99_ms.toFixed(1)} ms (${LATENCY_RUNS} runs)\n`,
  );

  // Phase 2: no-op jobs completed and recorded per second.
  if (NOOP_JOBS > 0) {
    const rssBefore = rssMb();
    const started = Date.now();
    const ids = [];
    const queueing = (async () => {
      const inFlight = new Set();
      for (let i = 0; i < NOOP_JOBS; i++) {
        const p = call('run_event', { id: noop })
          .then((a) => ids.push(a.id))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 50) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    await queueing;
    const queuedMs = Date.now() - started;
    let done = 0;
    const until = Date.now() + 300_000;
    while (done < NOOP_JOBS && Date.now() < until) {
      done = await ctx.store.indexes.count(core.JOBS_INDEX.name, core.JOBS_SCOPE, { term: { field: 'event', value: noop } });
      done -= 5 + LATENCY_RUNS;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (Date.now() - started) / 1000;
    results.noop = {
      jobs: NOOP_JOBS,
      completed: done,
      seconds,
      jobs_per_s: done / seconds,
      queue_ms: queuedMs,
      rss_mb_before: rssBefore,
      rss_mb_after: rssMb(),
    };
    process.stdout.write(
      `no-op    ${num(done)} of ${num(NOOP_JOBS)} jobs completed and recorded in ${seconds.toFixed(1)} s: ${(done / seconds).toFixed(0)} jobs/s (queued in ${queuedMs} ms); RSS ${rssBefore} → ${rssMb()} MB\n`,
    );
  }

  // Phase 3: live tail latency under load.
  if (TAIL_JOBS > 0) {
    const lines = Math.ceil((TAIL_MB * 1048576) / 100);
    const script = `#!/bin/sh\nawk -v n=${lines} 'BEGIN { pad = sprintf("%70s", ""); for (i = 0; i < n; i++) { if (i % 500 == 0) { "date +%s%N" | getline t; close("date +%s%N") } print t, i, pad } }'\n`;
    const chatty = await makeEvent('Chatty', 'shellplug', { script });
    const rssBefore = rssMb();
    const ids = await Promise.all(Array.from({ length: TAIL_JOBS }, () => call('run_event', { id: chatty }).then((a) => a.id)));
    const ages = [];
    let peakRss = rssBefore;
    const pending = new Set(ids);
    const started = Date.now();
    while (pending.size > 0 && Date.now() - started < 300_000) {
      await Promise.all(
        [...pending].map(async (id) => {
          const tail = await call('tail_live_job_log', { id, bytes: 4096 });
          const lastLine = tail.text?.trimEnd().split('\n').at(-1) ?? '';
          const stamp = Number(lastLine.split(' ')[0]);
          if (stamp > 1e18) ages.push(Date.now() - stamp / 1e6);
          if (await stored(id)) pending.delete(id);
        }),
      );
      peakRss = Math.max(peakRss, rssMb());
      await new Promise((r) => setTimeout(r, 100));
    }
    ages.sort((a, b) => a - b);
    // A stamp is written every 500 lines, so a line's age includes up to the time the job takes to print 500 lines.
    results.tail = {
      jobs: TAIL_JOBS,
      mb_each: TAIL_MB,
      samples: ages.length,
      p50_ms: quantile(ages, 0.5),
      p99_ms: quantile(ages, 0.99),
      seconds: (Date.now() - started) / 1000,
      rss_mb_before: rssBefore,
      rss_mb_peak: peakRss,
    };
    process.stdout.write(
      `tail     ${TAIL_JOBS} jobs × ${TAIL_MB} MB: newest line seen by tail_live_job_log is p50 ${results.tail.p50_ms.toFixed(0)} ms, p99 ${results.tail.p99_ms.toFixed(0)} ms old (${ages.length} samples, ${results.tail.seconds.toFixed(1)} s); RSS ${rssBefore} → peak ${peakRss} MB\n`,
    );
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await app.close();
  await core.closeContext(ctx);
  await removeRunData(redisUrl, prefix, dataDir);
}
process.exit(0);
