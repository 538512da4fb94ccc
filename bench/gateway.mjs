#!/usr/bin/env node
/**
 * What the gateway costs: the same authenticated call (`GET /api/app/echo/v1` with X-Session-ID) sent straight to
 * the management service and through the gateway in front of it, each as its own process, as in the container
 * deployment.
 *
 *   pnpm bench:gateway                       (builds first)
 *   node bench/gateway.mjs [--connections 50] [--duration 10] [--warmup 2] [--latency-duration 4] [--json FILE]
 *
 * Two phases, each run directly and then through the gateway, after a warm-up of both:
 *   - load:    --connections concurrent connections for --duration seconds: throughput and latency under load;
 *   - latency: one connection for --latency-duration seconds: what one hop adds to one request when nothing queues.
 * Latencies are measured per response with microsecond resolution (autocannon's own histogram keeps whole
 * milliseconds, too coarse for a sub-millisecond goal).
 *
 * Everything stays on loopback: the services listen on free ports of 127.0.0.1, use a temporary data dir and a
 * unique Redis key prefix (REDIS_URL, default redis://127.0.0.1:6379), and are stopped and cleaned up on exit.
 * The whole run is bounded (well under a minute with the defaults; a watchdog stops it at 90 s in any case).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
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

const GOAL_ADDED_P50_MS = 1;
const GOAL_RETAINED_PCT = 60;
const WATCHDOG_MS = 90_000;

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'latency-duration': { type: 'string', default: '4' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/gateway.mjs [--connections N] [--duration S] [--warmup S] [--latency-duration S] [--json FILE]\n',
  );
  process.exit(0);
}
const CONNECTIONS = wholeNumber(args, 'connections', 1, 1000);
const DURATION = wholeNumber(args, 'duration', 1, 15);
const WARMUP = wholeNumber(args, 'warmup', 0, 5);
const LATENCY_DURATION = wholeNumber(args, 'latency-duration', 0, 10);

let autocannon;
try {
  autocannon = require('autocannon');
} catch {
  fail('the autocannon package is missing: it is a root devDependency, run `pnpm install` first');
}

const MAINS = {
  management: join(ROOT, 'services/management/dist/main.js'),
  gateway: join(ROOT, 'services/gateway/dist/main.js'),
};
for (const [name, main] of Object.entries(MAINS)) {
  if (!existsSync(main)) fail(`${name} is not built (${main} is missing): run \`pnpm build\` first`);
}

// ------------------------------------------------------------------------------------------------------------
// Processes and cleanup

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PREFIX = `bench-gw-${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(12).toString('hex');
const SECRET = randomBytes(32).toString('hex');
const dataDir = mkdtempSync(join(tmpdir(), 'shallot-bench-'));
/** @type {{ name: string, child: import('node:child_process').ChildProcess, output: string[] }[]} */
const children = [];

/** The environment of a service: ours only, never SHALLOT_* settings inherited from the caller's shell. */
function serviceEnv(extra) {
  return {
    ...inheritedEnv(),
    SHALLOT_HOST: '127.0.0.1',
    SHALLOT_DATA_DIR: dataDir,
    SHALLOT_STORE: 'sqlite',
    SHALLOT_REDIS_PREFIX: PREFIX,
    REDIS_URL,
    SHALLOT_ADMIN_PASSWORD: PASSWORD,
    SHALLOT_SECRET_KEY: SECRET,
    SHALLOT_LOG_LEVEL: 'warn',
    SHALLOT_RATE_LIMIT: '0',
    ...extra,
  };
}
function start(name, port, extra = {}) {
  const child = spawn(process.execPath, [MAINS[name]], {
    cwd: ROOT,
    env: serviceEnv({ SHALLOT_PORT: String(port), ...extra }),
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

async function login(url) {
  const res = await fetch(`${url}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const body = await res.json();
  if (!res.ok || body.code !== 0 || typeof body.session_id !== 'string') {
    throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.session_id;
}

async function checkEcho(name, url, headers) {
  const res = await fetch(`${url}/api/app/echo/v1`, { headers });
  const body = await res.json();
  if (res.status !== 200 || body.code !== 0 || body.caller?.username !== 'admin') {
    throw new Error(`echo through ${name} answered ${res.status} ${JSON.stringify(body)}`);
  }
}

/** CPU use of every process in the run so far: the two services and this one (the load generator). */
function cpuSnapshot() {
  const own = process.cpuUsage();
  const snapshot = { bench: (own.user + own.system) / 1000 };
  for (const { name, child } of children) snapshot[name] = childCpuMs(child);
  return snapshot;
}

/** One autocannon run; latencies of 2xx responses are kept per response, in ms with sub-ms resolution. */
async function load(url, headers, connections, duration) {
  let samples = new Float64Array(1 << 16);
  let count = 0;
  const cpuBefore = cpuSnapshot();
  const instance = autocannon({ url: `${url}/api/app/echo/v1`, method: 'GET', headers, connections, duration });
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
  /** CPU microseconds per request of each process, where it could be read. */
  const cpuPerRequest = {};
  for (const [name, before] of Object.entries(cpuBefore)) {
    const after = cpuAfter[name];
    if (before !== undefined && after !== undefined && count > 0) cpuPerRequest[name] = ((after - before) * 1000) / count;
  }
  const latencies = samples.subarray(0, count).sort();
  const failures = result.non2xx + result.errors + result.timeouts;
  return {
    connections,
    duration: result.duration,
    requests: count,
    failures,
    rps: count / result.duration,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    mean: count === 0 ? Number.NaN : latencies.reduce((sum, v) => sum + v, 0) / count,
    cpuPerRequest,
  };
}

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(3)} ms` : 'n/a');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

// ------------------------------------------------------------------------------------------------------------
// The run

async function main() {
  const [managementPort, gatewayPort] = [await freePort(), await freePort()];
  process.stdout.write(`bench: starting management (:${managementPort}) and gateway (:${gatewayPort}), Redis ${REDIS_URL}\n`);
  // Management first: it creates the schema and the admin user the gateway's process then finds.
  const management = start('management', managementPort);
  await waitReady('management', management);
  const unreachable = 'http://127.0.0.1:9';
  const gateway = start('gateway', gatewayPort, {
    SHALLOT_MANAGEMENT_URL: management,
    SHALLOT_INGEST_URL: unreachable,
    SHALLOT_SEARCH_URL: unreachable,
    SHALLOT_JOB_RUNNER_URL: unreachable,
  });
  // Only management runs behind it here, so the gateway's own readiness (every service up) never comes.
  await waitReady('gateway', gateway, { path: '/health' });

  const sessionId = await login(management);
  const headers = { 'x-session-id': sessionId };
  await checkEcho('management', management, headers);
  await checkEcho('gateway', gateway, headers);

  if (WARMUP > 0) {
    process.stdout.write(`bench: warming up (${WARMUP} s each)\n`);
    await load(management, headers, CONNECTIONS, WARMUP);
    await load(gateway, headers, CONNECTIONS, WARMUP);
  }
  process.stdout.write(`bench: load, ${CONNECTIONS} connections, ${DURATION} s each\n`);
  const loadDirect = await load(management, headers, CONNECTIONS, DURATION);
  const loadGateway = await load(gateway, headers, CONNECTIONS, DURATION);
  let latencyDirect;
  let latencyGateway;
  if (LATENCY_DURATION > 0) {
    process.stdout.write(`bench: latency, 1 connection, ${LATENCY_DURATION} s each\n`);
    latencyDirect = await load(management, headers, 1, LATENCY_DURATION);
    latencyGateway = await load(gateway, headers, 1, LATENCY_DURATION);
  }

  const rows = [['run', 'conns', 'req/s', 'p50', 'p90', 'p99', 'requests', 'errors', 'CPU µs/req: mgmt', 'gateway', 'load gen']];
  const cpu = (value) => (value === undefined ? 'n/a' : value.toFixed(0));
  const add = (label, r) =>
    rows.push([
      label,
      r.connections,
      num(r.rps),
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      num(r.requests),
      r.failures,
      cpu(r.cpuPerRequest.management),
      label.startsWith('via') ? cpu(r.cpuPerRequest.gateway) : '-',
      cpu(r.cpuPerRequest.bench),
    ]);
  add('direct (management)', loadDirect);
  add('via gateway', loadGateway);
  if (latencyDirect && latencyGateway) {
    add('direct, 1 connection', latencyDirect);
    add('via gateway, 1 connection', latencyGateway);
  }
  const retained = (loadGateway.rps / loadDirect.rps) * 100;
  const addedLoaded = loadGateway.p50 - loadDirect.p50;
  const addedUnloaded = latencyDirect && latencyGateway ? latencyGateway.p50 - latencyDirect.p50 : undefined;
  const errors = [loadDirect, loadGateway, latencyDirect, latencyGateway].filter(Boolean).reduce((sum, r) => sum + r.failures, 0);

  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const lines = [
    '',
    `GET /api/app/echo/v1 (session auth, SQLite, Redis), node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    '',
    table(rows),
    '',
    `throughput retained through the gateway: ${retained.toFixed(1)} %   (goal >= ${GOAL_RETAINED_PCT} %: ${verdict(retained >= GOAL_RETAINED_PCT)})`,
    addedUnloaded === undefined
      ? `added p50 latency, ${CONNECTIONS} connections: ${ms(addedLoaded)}`
      : `added p50 latency, 1 connection: ${ms(addedUnloaded)}   (goal < ${GOAL_ADDED_P50_MS} ms: ${verdict(addedUnloaded < GOAL_ADDED_P50_MS)})`,
    `added p50 latency, ${CONNECTIONS} connections: ${ms(addedLoaded)}   (under saturation this is mostly queueing: connections / throughput)`,
  ];
  if (errors > 0) lines.push(`WARNING: ${errors} requests failed (non-2xx, errors or timeouts); the figures are suspect`);
  process.stdout.write(`${lines.join('\n')}\n`);

  if (args.json) {
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim(),
      memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      connections: CONNECTIONS,
      duration: DURATION,
      load: { direct: loadDirect, gateway: loadGateway },
      latency: latencyDirect ? { direct: latencyDirect, gateway: latencyGateway } : undefined,
      retainedPct: retained,
      addedP50LoadedMs: addedLoaded,
      addedP50UnloadedMs: addedUnloaded,
      errors,
    };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
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
