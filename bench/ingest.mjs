#!/usr/bin/env node
/**
 * Ingest throughput: concurrent Leek agents posting realistic event batches to `POST /v1/events/process` of the
 * whole suite (`node suite/dist/main.js`, every service in one process, SQLite, Redis), as in the embedded install.
 *
 *   pnpm bench:ingest                         (builds first)
 *   node bench/ingest.mjs [--agents 8] [--batch 500] [--duration 15] [--warmup 3] [--writes thread|inline]
 *                         [--store sqlite|opensearch] [--trigger] [--json FILE] [--cpu-prof DIR]
 *
 * Each agent is one keep-alive connection that posts its next batch as soon as the previous one is answered (a
 * saturated agent, as after a backlog). Task lifecycles are spread over batches the way an agent's 5-second windows
 * cut them: a task's QUEUED, RECEIVED, STARTED and final event arrive in four consecutive batches; 5 % of tasks fail
 * with a traceback, 3 % retry once before they succeed (RECOVERED), and for 5 % the STARTED event arrives two batches
 * late, after the final one (out of order). Each batch also carries one heartbeat per worker of the agent.
 *
 * Prints events/s (documents accepted per second over the measured window) and the p50/p90/p99 latency of a batch,
 * and checks the goal: >= 20,000 events/s with p99 <= 250 ms. `--writes inline` runs the store writes in the request's
 * thread (SHALLOT_INGEST_WRITE_THREAD=false) instead of the ingest write thread, for comparison. `--trigger` gives the
 * application a Slack trigger on FAILED and CRITICAL tasks, received by this process on loopback: the notification
 * path (outbox, relay, notify queue, job-runner deliveries) runs under the same load. Everything stays on loopback, in a temporary data dir
 * and under a unique Redis prefix, removed on exit; a watchdog stops the run after 120 s per store.
 *
 * `--store opensearch` measures the same load twice in one run: first on SQLite, then on OpenSearch
 * (`SHALLOT_STORE=opensearch`): the cluster at `OPENSEARCH_URL`, or else a local one started as `pnpm test` does
 * (scripts/opensearch.mjs: three nodes in one JVM), stopped at the end. It prints both figures side by side.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
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

const SUITE_MAIN = join(ROOT, 'suite/dist/main.js');
const GOAL_EVENTS_PER_S = 20_000;
const GOAL_P99_MS = 250;
const WATCHDOG_MS = 120_000;
const WORKERS_PER_AGENT = 4;

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '8' },
    batch: { type: 'string', default: '500' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    writes: { type: 'string', default: 'thread' },
    store: { type: 'string', default: 'sqlite' },
    trigger: { type: 'boolean', default: false },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/ingest.mjs [--agents N] [--batch N] [--duration S] [--warmup S] [--writes thread|inline] [--store sqlite|opensearch] [--trigger] [--json FILE] [--cpu-prof DIR]\n',
  );
  process.exit(0);
}
const AGENTS = wholeNumber(args, 'agents', 1, 256);
const BATCH = wholeNumber(args, 'batch', 10, 10_000);
const DURATION = wholeNumber(args, 'duration', 1, 60);
const WARMUP = wholeNumber(args, 'warmup', 0, 30);
if (args.writes !== 'thread' && args.writes !== 'inline') fail(`--writes must be "thread" or "inline", not ${JSON.stringify(args.writes)}`);
if (args.store !== 'sqlite' && args.store !== 'opensearch')
  fail(`--store must be "sqlite" or "opensearch", not ${JSON.stringify(args.store)}`);
/**
 * SQLite always runs; `--store opensearch` adds two OpenSearch runs after it: batches answered once searchable
 * (SHALLOT_INGEST_REFRESH=wait_for, the default) and once durable (false).
 */
const STORES = args.store === 'opensearch' ? ['sqlite', 'opensearch', 'opensearch-norefresh'] : ['sqlite'];

if (!existsSync(SUITE_MAIN)) fail(`the suite is not built (${SUITE_MAIN} is missing): run \`pnpm build\` first`);

// ------------------------------------------------------------------------------------------------------------
// The suite process and cleanup

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const RUN_ID = randomBytes(4).toString('hex');
const PASSWORD = randomBytes(12).toString('hex');
/** One data dir and one Redis prefix per store run, all removed on exit. */
const runs = [];
let suite;
let cluster;
const suiteOutput = [];

function startSuite(port, run, opensearchUrl) {
  const store = run === 'sqlite' ? 'sqlite' : 'opensearch';
  const data = { prefix: `bench-ingest-${RUN_ID}-${run}`, dataDir: mkdtempSync(join(tmpdir(), `shallot-bench-ingest-${run}-`)) };
  runs.push(data);
  const nodeArgs = [];
  if (args['cpu-prof']) {
    const dir = resolve(args['cpu-prof'], run);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  suite = spawn(process.execPath, [...nodeArgs, SUITE_MAIN], {
    cwd: ROOT,
    env: {
      ...inheritedEnv(),
      SHALLOT_HOST: '127.0.0.1',
      SHALLOT_PORT: String(port),
      SHALLOT_DATA_DIR: data.dataDir,
      SHALLOT_STORE: store,
      ...(store === 'opensearch'
        ? { OPENSEARCH_URL: opensearchUrl, SHALLOT_ES_PREFIX: `bench-${RUN_ID}-${run === 'opensearch' ? 'a' : 'b'}-` }
        : {}),
      SHALLOT_INGEST_REFRESH: run === 'opensearch-norefresh' ? 'false' : 'wait_for',
      SHALLOT_REDIS_PREFIX: data.prefix,
      REDIS_URL,
      SHALLOT_ADMIN_PASSWORD: PASSWORD,
      SHALLOT_LOG_LEVEL: 'warn',
      SHALLOT_RATE_LIMIT: '0',
      SHALLOT_INGEST_WRITE_THREAD: String(args.writes === 'thread'),
      SHALLOT_WEBHOOK_ALLOW: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  suiteOutput.length = 0;
  superviseChild(suite, `the suite (${run})`, suiteOutput, cleanup);
  return `http://127.0.0.1:${port}`;
}

/** Stops the current suite on purpose (between two stores), so its exit is not taken for a crash. */
async function stopSuite() {
  if (!suite) return;
  suite.removeAllListeners('exit');
  await stopChild(suite, 10_000);
  suite = undefined;
}

/** The bench's own indices on the cluster (`bench-<run>-*`), so a shared cluster keeps nothing of the run. */
async function deleteBenchIndices(url) {
  const res = await fetch(`${url}/bench-${RUN_ID}-*?expand_wildcards=all`, { method: 'DELETE' }).catch((error) => error);
  if (res instanceof Error || (!res.ok && res.status !== 404)) {
    process.stderr.write(`bench: could not delete the bench-${RUN_ID}-* indices: ${res instanceof Error ? res.message : res.status}\n`);
  }
}

let opensearchUrl;

/**
 * CPU milliseconds used so far by the cluster's processes (`_nodes` stats), each JVM counted once however many nodes
 * it runs; undefined when the cluster does not say.
 */
async function clusterCpuMs(url) {
  try {
    const [info, stats] = await Promise.all(
      ['/_nodes/process?filter_path=nodes.*.process.id,nodes.*.host', '/_nodes/stats/process?filter_path=nodes.*.process.cpu'].map((path) =>
        fetch(`${url}${path}`).then((res) => res.json()),
      ),
    );
    const perProcess = new Map();
    for (const [node, { host, process: proc }] of Object.entries(info.nodes)) {
      perProcess.set(`${host}/${proc.id}`, stats.nodes[node]?.process?.cpu?.total_in_millis);
    }
    const values = [...perProcess.values()];
    return values.every((v) => typeof v === 'number') ? values.reduce((a, b) => a + b, 0) : undefined;
  } catch {
    return undefined;
  }
}

const cleanup = onceCleanup(async () => {
  if (suite) await stopChild(suite, 10_000);
  for (const run of runs) await removeRunData(REDIS_URL, run.prefix, run.dataDir);
  if (opensearchUrl) await deleteBenchIndices(opensearchUrl);
  if (cluster) await cluster.stop();
});
stopOnSignalsAndWatchdog(cleanup, WATCHDOG_MS * STORES.length + (STORES.length > 1 ? 600_000 : 0));

async function json(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return body;
}

/** Slack's stand-in for `--trigger`: counts the messages (the trigger's verification message included). */
const slack = { messages: 0, url: '' };
async function startSlackReceiver() {
  if (slack.url) return;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      slack.messages++;
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  slack.url = `http://127.0.0.1:${server.address().port}/services/T000/B000/BENCH`;
}

/** Logs in as the admin (org `localhost`, from admin@localhost) and creates the app the agents send to. */
async function createApplication(url) {
  const login = await json(`${url}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const session = login.session_id;
  const app = await json(`${url}/v1/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': session },
    body: JSON.stringify({ app_name: 'bench', app_description: 'ingest benchmark' }),
  });
  if (args.trigger) {
    await startSlackReceiver();
    await json(`${url}/v1/applications/fo-triggers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': session, 'x-leek-app-name': app.app_name },
      body: JSON.stringify({ enabled: true, type: 'slack', slack_wh_url: slack.url, states: ['FAILED', 'CRITICAL'] }),
    });
  }
  return { session, org: app.org, app: app.app_name, key: app.app_key };
}

// ------------------------------------------------------------------------------------------------------------
// Agents: realistic batches

const TASK_NAMES = Array.from({ length: 40 }, (_, i) => [`app${i % 6}.tasks`, `job_${i}`]);
const TRACEBACK = `Traceback (most recent call last):\n${'  File "/app/tasks.py", line 40, in run\n    return do_work(x)\n'.repeat(12)}ValueError: invalid literal for int() with base 10: 'abc'`;

/** One agent's event stream: each batch holds the due events of tasks in flight plus new tasks, then heartbeats. */
class AgentStream {
  constructor(index) {
    this.index = index;
    this.batchNo = 0;
    this.clock = 1;
    this.workers = Array.from({ length: WORKERS_PER_AGENT }, (_, k) => `celery@agent${index}-w${k}`);
    /** batch number → documents due then */
    this.due = new Map();
    this.time = 1_718_000_000 + index * 1000;
  }

  schedule(batch, doc) {
    let list = this.due.get(batch);
    if (list === undefined) {
      list = [];
      this.due.set(batch, list);
    }
    list.push(doc);
  }

  /** Plans a new task's events over the next batches. */
  startTask() {
    const uuid = randomUUID();
    const [module, fn] = TASK_NAMES[Math.floor(Math.random() * TASK_NAMES.length)];
    const name = `${module}.${fn}`;
    const worker = this.workers[Math.floor(Math.random() * this.workers.length)];
    const dice = Math.random();
    const failing = dice < 0.05;
    const retrying = dice >= 0.05 && dice < 0.08;
    const late = Math.random() < 0.05;
    const n = this.batchNo;
    this.time += 0.002;
    let t = this.time;
    /** The event time `dt` seconds after the previous event of this task. */
    const after = (dt) => {
      t += dt;
      return t;
    };
    const input = {
      name,
      name_parts: { module, function: fn },
      args: `(${n}, 'EUR')`,
      args_0: String(n),
      args_1: 'EUR',
      kwargs: "{'notify': True}",
      kwargs_flattened: { notify: true },
      root_id: uuid,
      retries: 0,
    };
    const doc = (state, at, fields) => {
      const ms = Math.floor(at * 1000);
      return {
        id: uuid,
        uuid,
        kind: 'task',
        state,
        app_env: 'prod',
        updated_at: ms + 50,
        timestamp: ms,
        exact_timestamp: at,
        [`${state === 'RETRY' ? 'retried' : state.toLowerCase()}_at`]: ms,
        utcoffset: 0,
        pid: 100 + this.index,
        clock: this.clock++,
        ...fields,
        events: [state],
        events_count: 1,
      };
    };
    this.schedule(n, doc('QUEUED', t, { ...input, exchange: '', routing_key: module, queue: module, client: `web-${this.index}` }));
    this.schedule(n + 1, doc('RECEIVED', after(0.2), { worker, ...input }));
    this.schedule(late ? n + 4 : n + 2, doc('STARTED', after(0.1), { worker }));
    let next = n + 3;
    if (retrying) {
      this.schedule(next++, doc('RETRY', after(0.5), { worker, exception: 'Retry in 5s', traceback: TRACEBACK }));
      this.schedule(next++, doc('RECEIVED', after(5), { worker, ...input, retries: 1 }));
      this.schedule(next++, doc('STARTED', after(0.1), { worker }));
    }
    this.schedule(
      next,
      failing
        ? doc('FAILED', after(1.5), {
            worker,
            exception: 'ValueError("invalid literal for int() with base 10: \'abc\'")',
            traceback: TRACEBACK,
            lang: 'python',
            error: { type: 'ValueError', message: "invalid literal for int() with base 10: 'abc'" },
            stack: [],
            trace: { raw: TRACEBACK, text: TRACEBACK, wc: TRACEBACK },
          })
        : doc('SUCCEEDED', after(1.5), { worker, result: "{'ok': True}", runtime: 0.5 + Math.random() * 2 }),
    );
  }

  /** The next batch as a JSON body, and how many documents it holds. */
  next() {
    const docs = this.due.get(this.batchNo) ?? [];
    this.due.delete(this.batchNo);
    // Fill up with new tasks: in a steady state about a quarter of a batch is QUEUED events of new tasks.
    while (docs.length < BATCH - WORKERS_PER_AGENT) {
      this.startTask();
      const fresh = this.due.get(this.batchNo);
      docs.push(fresh.pop());
      if (fresh.length === 0) this.due.delete(this.batchNo);
    }
    this.time += 0.01;
    const beat = Math.floor(this.time * 1000);
    for (const hostname of this.workers) {
      docs.push({
        id: hostname,
        hostname,
        kind: 'worker',
        state: 'HEARTBEAT',
        app_env: 'prod',
        updated_at: beat + 20,
        timestamp: beat,
        exact_timestamp: beat / 1000,
        last_heartbeat_at: beat,
        utcoffset: 0,
        pid: 100 + this.index,
        clock: this.clock++,
        freq: 2.0,
        sw_ident: 'py-celery',
        sw_ver: '5.3.6',
        sw_sys: 'Linux',
        active: 4,
        processed: this.batchNo * 100,
        loadavg: [0.5, 0.4, 0.3],
        events_count: 5,
      });
    }
    this.batchNo++;
    return { body: Buffer.from(JSON.stringify(docs)), count: docs.length };
  }
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: AGENTS });

function post(url, headers, body) {
  return new Promise((done, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent: keepAlive, headers: { ...headers, 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function run(url, target) {
  const headers = {
    'x-leek-org-name': target.org,
    'x-leek-app-name': target.app,
    'x-leek-app-key': target.key,
    'x-leek-app-env': 'prod',
    'x-requested-with': 'leek-agent',
  };
  const endpoint = `${url}/v1/events/process`;
  const start = performance.now();
  const measureFrom = start + WARMUP * 1000;
  const end = measureFrom + DURATION * 1000;
  const latencies = [];
  let events = 0;
  let batches = 0;
  let failures = 0;
  let firstFailure;
  let cpu;
  let ownCpu;
  const streams = Array.from({ length: AGENTS }, (_, i) => new AgentStream(i));
  let clusterCpu;
  const markCpu = () => {
    cpu = childCpuMs(suite);
    ownCpu = process.cpuUsage();
    if (opensearchUrl && target.store !== 'sqlite') clusterCpuMs(opensearchUrl).then((ms) => (clusterCpu = ms));
  };
  const cpuTimer = setTimeout(markCpu, Math.max(0, measureFrom - performance.now()));
  await Promise.all(
    streams.map(async (stream) => {
      while (performance.now() < end) {
        const { body, count } = stream.next();
        const sent = performance.now();
        const res = await post(endpoint, headers, body);
        const done = performance.now();
        let ok = res.status === 201;
        if (ok) {
          const answer = JSON.parse(res.text);
          ok = answer.success === count && answer.rejected === 0;
        }
        if (!ok) {
          failures++;
          firstFailure ??= `${res.status} ${res.text.slice(0, 300)}`;
        }
        if (sent >= measureFrom && done <= end) {
          latencies.push(done - sent);
          if (ok) events += count;
          batches++;
        }
      }
    }),
  );
  clearTimeout(cpuTimer);
  const cpuAfter = childCpuMs(suite);
  const clusterCpuAfter = clusterCpu === undefined ? undefined : await clusterCpuMs(opensearchUrl);
  const clusterMs = clusterCpuAfter === undefined ? undefined : clusterCpuAfter - clusterCpu;
  const own = process.cpuUsage(ownCpu);
  latencies.sort((a, b) => a - b);
  return {
    events,
    batches,
    failures,
    firstFailure,
    eventsPerSecond: events / DURATION,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    suiteCpuPct: cpu !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpu) / (DURATION * 1000)) * 100 : undefined,
    suiteCpuUsPerEvent: cpu !== undefined && cpuAfter !== undefined && events > 0 ? ((cpuAfter - cpu) * 1000) / events : undefined,
    benchCpuPct: ((own.user + own.system) / 1000 / (DURATION * 1000)) * 100,
    clusterCpuPct: clusterMs === undefined ? undefined : (clusterMs / (DURATION * 1000)) * 100,
    clusterCpuUsPerEvent: clusterMs === undefined || events === 0 ? undefined : (clusterMs * 1000) / events,
  };
}

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

/** Starts the suite on `store`, loads it with the agents, and stops it again. */
async function measure(store) {
  const port = await freePort();
  const where =
    store === 'sqlite'
      ? 'SQLite'
      : `OpenSearch at ${opensearchUrl}, batches answered once ${store === 'opensearch' ? 'searchable' : 'durable'}`;
  process.stdout.write(`bench: starting the suite on :${port} (${where}, Redis ${REDIS_URL})\n`);
  const url = startSuite(port, store, opensearchUrl);
  await waitReady('the suite', url, { timeoutMs: store === 'sqlite' ? 30_000 : 120_000 });
  const target = await createApplication(url);
  process.stdout.write(`bench: ${store}: ${AGENTS} agents × ${BATCH}-document batches, ${WARMUP} s warm-up then ${DURATION} s measured\n`);
  const result = await run(url, { ...target, store });
  const indices = await json(`${url}/v1/applications/indices`, {
    headers: { 'x-session-id': target.session, 'x-leek-app-name': target.app },
  });
  await stopSuite();
  return {
    store,
    ...result,
    stored: indices.find((p) => p.name === 'events')?.primaries.docs.count,
    summaryRows: indices.find((p) => p.name === 'summary')?.primaries.docs.count,
  };
}

async function main() {
  if (STORES.length > 1) {
    opensearchUrl = process.env.OPENSEARCH_URL;
    if (!opensearchUrl) {
      const { openSearchTools, startOpenSearch } = await import('../scripts/opensearch.mjs');
      const missing = openSearchTools();
      if (missing !== undefined) fail(`--store opensearch needs OPENSEARCH_URL or a local cluster, which needs ${missing}`);
      cluster = await startOpenSearch({ log: (line) => process.stdout.write(`bench: ${line}\n`) });
      opensearchUrl = cluster.url;
    }
  }
  const results = [];
  for (const store of STORES) results.push(await measure(store));

  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const lines = [
    '',
    `POST /v1/events/process through the suite (Redis ${REDIS_URL}), node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `${AGENTS} agents, ${BATCH} documents per batch, ${DURATION} s measured after ${WARMUP} s warm-up, writes in ${args.writes === 'thread' ? 'the ingest write thread (SQLite)' : "the request's thread"}`,
  ];
  if (cluster)
    lines.push(`OpenSearch ${cluster.version}: ${cluster.nodes} nodes in one local JVM, heap ${cluster.heapMb} MiB, on the same machine`);
  else if (opensearchUrl) lines.push(`OpenSearch: the cluster at ${opensearchUrl}`);
  for (const result of results) {
    lines.push(
      '',
      `[${{ sqlite: 'sqlite', opensearch: 'opensearch, SHALLOT_INGEST_REFRESH=wait_for', 'opensearch-norefresh': 'opensearch, SHALLOT_INGEST_REFRESH=false' }[result.store]}]`,
      `events/s          ${num(result.eventsPerSecond)}   (goal >= ${num(GOAL_EVENTS_PER_S)}${result.store === 'sqlite' ? `: ${verdict(result.eventsPerSecond >= GOAL_EVENTS_PER_S)}` : ': the goal is for the embedded SQLite store'})`,
      `batches/s         ${(result.batches / DURATION).toFixed(1)}`,
      `batch latency     p50 ${ms(result.p50)}   p90 ${ms(result.p90)}   p99 ${ms(result.p99)}   max ${ms(result.max)}${result.store === 'sqlite' ? `   (goal p99 <= ${GOAL_P99_MS} ms: ${verdict(result.p99 <= GOAL_P99_MS)})` : ''}`,
      `CPU               suite ${result.suiteCpuPct === undefined ? 'n/a' : `${result.suiteCpuPct.toFixed(0)} %`}   load generator ${result.benchCpuPct.toFixed(0)} %   (of one core)`,
      ...(result.clusterCpuPct === undefined
        ? []
        : [
            `cluster CPU       ${result.clusterCpuPct.toFixed(0)} % of one core${result.clusterCpuUsPerEvent === undefined ? '' : `, ${result.clusterCpuUsPerEvent.toFixed(0)} µs per event`} (the JVM, from _nodes stats)`,
          ]),
      `suite CPU/event   ${result.suiteCpuUsPerEvent === undefined ? 'n/a' : `${result.suiteCpuUsPerEvent.toFixed(1)} µs   (one core's worth: ${num(1e6 / result.suiteCpuUsPerEvent)} events/s)`}`,
      `stored            ${num(result.stored ?? 0)} task/worker documents, ${num(result.summaryRows ?? 0)} summary rows`,
    );
    if (result.failures > 0) lines.push(`WARNING: ${result.failures} batches failed; first: ${result.firstFailure}`);
  }
  lines.push(
    '',
    `machine load      ${loadavg()[0].toFixed(1)} (1-minute average; above the CPU count, other processes compete for the cores)`,
  );
  if (args.trigger)
    lines.push(`slack             ${num(Math.max(0, slack.messages - STORES.length))} failure messages received by the end of the run`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) {
    writeFileSync(
      args.json,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: availableParallelism(), agents: AGENTS, batch: BATCH, duration: DURATION, writes: args.writes, trigger: args.trigger, opensearch: cluster ? { version: cluster.version, nodes: cluster.nodes, heapMb: cluster.heapMb } : opensearchUrl, results }, null, 2)}\n`,
    );
  }
  return results.every((result) => result.failures === 0);
}

main().then(
  async (ok) => {
    await cleanup();
    if (args['cpu-prof']) process.stdout.write(`bench: CPU profile of the suite written to ${resolve(args['cpu-prof'])}\n`);
    process.exit(ok ? 0 : 1);
  },
  async (error) => {
    process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
    for (const line of suiteOutput) process.stderr.write(`  suite: ${line}\n`);
    await cleanup();
    process.exit(1);
  },
);
