#!/usr/bin/env node
/**
 * What an authenticated API call costs (issue 15): the all-in-one suite in its own process, and the separate gateway
 * in front of it in another, as in the container deployment.
 *
 *   pnpm bench:api                           (builds first)
 *   node bench/api.mjs [--connections 50] [--write-connections 20] [--duration 10] [--warmup 2] [--json FILE]
 *
 * After logging in, it prepares 50 categories (and 20 events, when the suite has create_event), an admin API key,
 * then measures, each for --duration seconds after a warm-up:
 *   - get_categories with a session (X-Session-ID), --connections connections, straight to the suite;
 *   - the same with an API key (X-API-Key);
 *   - the same with the session through the gateway;
 *   - create_category (a new title each time), --write-connections connections;
 * and the suite's resident memory (RSS) after the run. Latencies are kept per response with sub-ms resolution;
 * CPU time per request is read from /proc for the suite, the gateway and this process (the load generator).
 *
 * Everything stays on loopback: free ports of 127.0.0.1, a temporary data dir, a unique Redis key prefix (REDIS_URL,
 * default redis://127.0.0.1:6379); processes and data are removed on exit; a watchdog stops the run at 180 s.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT,
  childCpuMs,
  fail,
  freePort,
  inheritedEnv,
  num,
  onceCleanup,
  quantile,
  removeRunData,
  stopChild,
  stopOnSignalsAndWatchdog,
  superviseChild,
  waitReady,
  wholeNumber,
} from './lib.mjs';

const require = createRequire(import.meta.url);

const GOALS = { readRps: 14_000, readP99Ms: 10, gatewayPct: 60, writeRps: 1_000, rssMb: 150 };
const CATEGORIES = 50;
const EVENTS = 20;
const WATCHDOG_MS = 180_000;

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    'write-connections': { type: 'string', default: '20' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node bench/api.mjs [--connections N] [--write-connections N] [--duration S] [--warmup S] [--json FILE]\n');
  process.exit(0);
}
const CONNECTIONS = wholeNumber(args, 'connections', 1, 1000);
const WRITE_CONNECTIONS = wholeNumber(args, 'write-connections', 1, 1000);
const DURATION = wholeNumber(args, 'duration', 1, 30);
const WARMUP = wholeNumber(args, 'warmup', 0, 10);

let autocannon;
try {
  autocannon = require('autocannon');
} catch {
  fail('the autocannon package is missing: it is a root devDependency, run `pnpm install` first');
}

const MAINS = { suite: join(ROOT, 'suite/dist/main.js'), gateway: join(ROOT, 'services/gateway/dist/main.js') };
for (const [name, main] of Object.entries(MAINS)) {
  if (!existsSync(main)) fail(`${name} is not built (${main} is missing): run \`pnpm build\` first`);
}

// ------------------------------------------------------------------------------------------------------------
// Processes and cleanup

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PREFIX = `bench-api-${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(12).toString('hex');
const SECRET = randomBytes(32).toString('hex');
const dataDir = mkdtempSync(join(tmpdir(), 'shallot-bench-'));
/** @type {{ name: string, child: import('node:child_process').ChildProcess, output: string[] }[]} */
const children = [];

function start(name, port, extra = {}) {
  const child = spawn(process.execPath, [MAINS[name]], {
    cwd: ROOT,
    env: {
      ...inheritedEnv(),
      SHALLOT_HOST: '127.0.0.1',
      SHALLOT_PORT: String(port),
      SHALLOT_DATA_DIR: dataDir,
      SHALLOT_STORE: 'sqlite',
      SHALLOT_REDIS_PREFIX: PREFIX,
      REDIS_URL,
      SHALLOT_ADMIN_PASSWORD: PASSWORD,
      SHALLOT_SECRET_KEY: SECRET,
      SHALLOT_LOG_LEVEL: 'warn',
      SHALLOT_RATE_LIMIT: '0',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { name, child, output: [] };
  superviseChild(child, name, entry.output, cleanup);
  children.push(entry);
  return `http://127.0.0.1:${port}`;
}

const cleanup = onceCleanup(async () => {
  await Promise.all(children.map(({ child }) => stopChild(child, 5000)));
  await removeRunData(REDIS_URL, PREFIX, dataDir);
});
stopOnSignalsAndWatchdog(cleanup, WATCHDOG_MS);

// ------------------------------------------------------------------------------------------------------------
// Helpers

async function call(url, name, payload, headers) {
  const res = await fetch(`${url}/api/app/${name}/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return { status: res.status, body: await res.json() };
}

async function login(url) {
  const res = await fetch(`${url}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const body = await res.json();
  if (body.code !== 0 || typeof body.session_id !== 'string') throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.session_id;
}

/** 50 categories, 20 events when the API has them, and an admin API key. */
async function prepare(url, session) {
  const headers = { 'x-session-id': session };
  for (let i = 0; i < CATEGORIES; i++) {
    const res = await call(
      url,
      'create_category',
      { id: `bench_${i}`, title: `Bench category ${i}`, notes: 'prepared by bench/api.mjs' },
      headers,
    );
    if (res.body.code !== 0) throw new Error(`create_category answered ${JSON.stringify(res.body)}`);
  }
  let events = 0;
  for (let i = 0; i < EVENTS; i++) {
    const res = await call(
      url,
      'create_event',
      { title: `Bench event ${i}`, category: 'bench_0', plugin: 'shellplug', targets: [] },
      headers,
    );
    if (res.body.code === 0) events++;
    else {
      process.stdout.write(`bench: no events (create_event answered ${JSON.stringify(res.body).slice(0, 200)})\n`);
      break;
    }
  }
  const key = await call(url, 'create_api_key', { title: 'bench', privileges: { admin: true } }, headers);
  if (key.body.code !== 0) throw new Error(`create_api_key answered ${JSON.stringify(key.body)}`);
  return { events, apiKey: key.body.plain_key };
}

async function checkRead(label, url, headers) {
  const res = await fetch(`${url}/api/app/get_categories/v1`, { headers });
  const body = await res.json();
  if (res.status !== 200 || body.code !== 0 || !Array.isArray(body.rows) || body.rows.length < CATEGORIES) {
    throw new Error(`get_categories ${label} answered ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

function cpuSnapshot() {
  const own = process.cpuUsage();
  const snapshot = { bench: (own.user + own.system) / 1000 };
  for (const { name, child } of children) snapshot[name] = childCpuMs(child);
  return snapshot;
}

function rssMb(child) {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

let written = 0;

/** One autocannon run; latencies of 2xx responses with code 0 are kept per response (ms, sub-ms resolution). */
async function load(label, options, connections, duration) {
  let samples = new Float64Array(1 << 16);
  let count = 0;
  const cpuBefore = cpuSnapshot();
  const instance = autocannon({ ...options, connections, duration });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode < 200 || statusCode >= 300) return;
    if (count === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[count++] = responseTime;
  });
  const result = await instance;
  const cpuAfter = cpuSnapshot();
  const cpuPerRequest = {};
  for (const [name, before] of Object.entries(cpuBefore)) {
    const after = cpuAfter[name];
    if (before !== undefined && after !== undefined && count > 0) cpuPerRequest[name] = ((after - before) * 1000) / count;
  }
  const latencies = samples.subarray(0, count).sort();
  return {
    label,
    connections,
    duration: result.duration,
    requests: count,
    failures: result.non2xx + result.errors + result.timeouts,
    rps: count / result.duration,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpuPerRequest,
  };
}

const readOptions = (url, headers) => ({ url: `${url}/api/app/get_categories/v1`, method: 'GET', headers });
const writeOptions = (url, session) => ({
  url,
  requests: [
    {
      method: 'POST',
      path: '/api/app/create_category/v1',
      headers: { 'x-session-id': session, 'content-type': 'application/json' },
      // A new category each time (the title is required; the id is generated).
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ title: `Written ${++written}` }) }),
    },
  ],
});

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

// ------------------------------------------------------------------------------------------------------------
// The run

async function main() {
  const [suitePort, gatewayPort] = [await freePort(), await freePort()];
  process.stdout.write(`bench: starting the suite (:${suitePort}) and a gateway in front of it (:${gatewayPort}), Redis ${REDIS_URL}\n`);
  const suite = start('suite', suitePort);
  // A loaded machine can take a while to start the whole suite.
  await waitReady('suite', suite, { timeoutMs: 120_000 });
  const gateway = start('gateway', gatewayPort, {
    SHALLOT_MANAGEMENT_URL: suite,
    SHALLOT_INGEST_URL: suite,
    SHALLOT_SEARCH_URL: suite,
    SHALLOT_JOB_RUNNER_URL: suite,
  });
  await waitReady('gateway', gateway, { path: '/health', timeoutMs: 60_000 });

  const session = await login(suite);
  const { events, apiKey } = await prepare(suite, session);
  const sessionHeaders = { 'x-session-id': session };
  const keyHeaders = { 'x-api-key': apiKey };
  await checkRead('with a session', suite, sessionHeaders);
  await checkRead('with an API key', suite, keyHeaders);
  await checkRead('through the gateway', gateway, sessionHeaders);
  const probe = await call(suite, 'create_category', { title: 'Probe' }, sessionHeaders);
  if (probe.body.code !== 0) throw new Error(`create_category answered ${JSON.stringify(probe.body)}`);

  const runs = [
    ['get_categories, session', readOptions(suite, sessionHeaders), CONNECTIONS],
    ['get_categories, API key', readOptions(suite, keyHeaders), CONNECTIONS],
    ['get_categories, session, via gateway', readOptions(gateway, sessionHeaders), CONNECTIONS],
    ['create_category, session', writeOptions(suite, session), WRITE_CONNECTIONS],
  ];
  if (WARMUP > 0) {
    process.stdout.write(`bench: warming up (${WARMUP} s each)\n`);
    for (const [label, options, connections] of runs) await load(label, options, connections, WARMUP);
  }
  const results = [];
  for (const [label, options, connections] of runs) {
    process.stdout.write(`bench: ${label}, ${connections} connections, ${DURATION} s\n`);
    results.push(await load(label, options, connections, DURATION));
  }
  const suiteChild = children.find((c) => c.name === 'suite')?.child;
  const rss = suiteChild ? rssMb(suiteChild) : Number.NaN;

  const cpu = (value) => (value === undefined ? 'n/a' : value.toFixed(0));
  const rows = [['run', 'conns', 'req/s', 'p50', 'p99', 'requests', 'errors', 'CPU µs/req: suite', 'gateway', 'load gen']];
  for (const r of results) {
    rows.push([
      r.label,
      r.connections,
      num(r.rps),
      ms(r.p50),
      ms(r.p99),
      num(r.requests),
      r.failures,
      cpu(r.cpuPerRequest.suite),
      r.label.includes('gateway') ? cpu(r.cpuPerRequest.gateway) : '-',
      cpu(r.cpuPerRequest.bench),
    ]);
  }
  const [readSession, readKey, readGateway, write] = results;
  const retained = (readGateway.rps / readSession.rps) * 100;
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const errors = results.reduce((sum, r) => sum + r.failures, 0);
  const lines = [
    '',
    `Shallot all-in-one (SQLite, Redis), ${CATEGORIES} categories, ${events} events; node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average before the end ${loadavg()[0].toFixed(2)}`,
    '',
    table(rows),
    '',
    `get_categories, session:  ${num(readSession.rps)} req/s (goal >= ${num(GOALS.readRps)}: ${verdict(readSession.rps >= GOALS.readRps)}), p99 ${ms(readSession.p99)} (goal <= ${GOALS.readP99Ms} ms: ${verdict(readSession.p99 <= GOALS.readP99Ms)})`,
    `get_categories, API key:  ${num(readKey.rps)} req/s (goal >= ${num(GOALS.readRps)}: ${verdict(readKey.rps >= GOALS.readRps)}), p99 ${ms(readKey.p99)}`,
    `through the gateway:      ${retained.toFixed(1)} % of direct (goal >= ${GOALS.gatewayPct} %: ${verdict(retained >= GOALS.gatewayPct)})`,
    `create_category:          ${num(write.rps)} req/s (goal >= ${num(GOALS.writeRps)}: ${verdict(write.rps >= GOALS.writeRps)})`,
    `suite RSS after the run:  ${rss.toFixed(0)} MB (goal <= ${GOALS.rssMb} MB: ${verdict(rss <= GOALS.rssMb)})`,
  ];
  if (errors > 0) lines.push(`WARNING: ${errors} requests failed (non-2xx, errors or timeouts); the figures are suspect`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) {
    writeFileSync(
      args.json,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: availableParallelism(), results, retainedPct: retained, rssMb: rss, events, errors }, null, 2)}\n`,
    );
  }
  return errors === 0;
}

main().then(
  async (ok) => {
    await cleanup();
    process.exit(ok ? 0 : 1);
  },
  async (error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    for (const { name, output } of children) {
      if (output.length === 0) continue;
      process.stderr.write(`--- last output of ${name}:\n${output.map((l) => `  ${l}`).join('\n')}\n`);
    }
    await cleanup();
    process.exit(1);
  },
);
