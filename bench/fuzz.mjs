#!/usr/bin/env node
/**
 * `pnpm fuzz [--requests N] [--concurrency C] [--seed S] [--json]`: property-based request fuzzing of the
 * all-in-one suite over real HTTP (issue 8). Every public endpoint's descriptor (packages/schemas) gives a valid
 * shape; fast-check generators break it: wrong types, huge strings, deep nesting, __proto__/constructor keys,
 * unicode (lone surrogates included), duplicate keys, wrong content types, numbers like 1e309, bad credentials.
 *
 * Invariants, each a failure (exit 1) when broken:
 * - no 5xx answer and no dropped connection (a crash), but for the Leek API's documented 501 "No broker configured"
 *   (code 501001: the fuzzed application has no Celery broker, which is the answer Leek clients expect);
 * - no answer slower than --max-ms (1000);
 * - the server's event loop never blocked more than --max-stall-ms (200), measured in the server process with
 *   perf_hooks.monitorEventLoopDelay; a stall only counts when the loop was also busy that long (event-loop
 *   utilization) with the process on a CPU (on a shared machine the loop also waits while other processes run);
 * - RSS after the run (after a full GC) within 1.5× (or +100 MB) of RSS after the warm-up;
 * - nothing half-written: every list endpoint still answers code 0 with readable records afterwards.
 * Prints counts by status, the slowest requests and the worst event-loop stall.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { API, routePaths } from '../packages/schemas/dist/index.js';
import { ROOT, fail, num, onceCleanup, removeRunData, stopOnSignalsAndWatchdog, wholeNumber } from './lib.mjs';

/** A 5xx that is a documented answer, not a failure: Leek's 501 501001 for an application without a broker. */
function isDocumentedServerAnswer(status, answer) {
  return status === 501 && answer.includes('"code":501001');
}

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'max-ms': { type: 'string', default: '1000' },
    'max-stall-ms': { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = wholeNumber(args, 'requests', 1, 10_000_000);
const CONCURRENCY = wholeNumber(args, 'concurrency', 1, 64);
const SEED = wholeNumber(args, 'seed', 0, 2 ** 31 - 1);
const MAX_MS = wholeNumber(args, 'max-ms', 1, 600_000);
const MAX_STALL_MS = wholeNumber(args, 'max-stall-ms', 1, 600_000);
const WARM_UP = Math.min(200, Math.ceil(REQUESTS / 10));
const ADMIN_PASSWORD = `fuzz-${randomBytes(12).toString('hex')}`;

/** Calls that end the fuzzer's own session or account: a 403 afterwards would only hide the rest of the run. */
const SESSION_ENDERS = new Set(['user/logout', 'user/delete', 'user/update', 'user/admin_delete', 'user/admin_update']);
const ENDPOINTS = API.filter((d) => !SESSION_ENDERS.has(`${d.namespace}/${d.name}`)).flatMap((d) =>
  routePaths(d).map((path) => ({ descriptor: d, path: path.replace(/[:<][^/]*/g, 'fuzz') })),
);

// ---- valid shapes from the descriptors ---------------------------------------------------------------------------

/** A plausible value for a TypeBox (JSON) schema: defaults, first literals, minimal strings and numbers. */
function sample(schema, key = '', depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 6) return null;
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) return sample(variants[0], key, depth + 1);
  switch (schema.type) {
    case 'string': {
      const base = key === 'id' ? `fuzz_${randomBytes(3).toString('hex')}` : key === 'title' ? 'Fuzz title' : 'fuzz';
      return base.padEnd(schema.minLength ?? 0, 'x').slice(0, schema.maxLength ?? 64);
    }
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object': {
      const out = {};
      const required = new Set(schema.required ?? []);
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        if (required.has(name) || depth === 0) out[name] = sample(property, name, depth + 1);
      }
      return out;
    }
    default:
      return null;
  }
}

// ---- how valid shapes are broken --------------------------------------------------------------------------------

const objectText = (n, value = '0') => `{${Array.from({ length: n }, (_, i) => `"k${i}":${value}`).join(',')}}`;

/** A raw JSON fragment meant to hurt: each branch is one class of input the review used. */
const nasty = fc.oneof(
  fc.constantFrom('1e309', '-1e309', '-0', '1e-400', '123456789012345678901234567890', 'null', 'true', '[]', '{}', '""', '0.1e1'),
  fc
    .oneof(fc.integer(), fc.double(), fc.boolean(), fc.string(), fc.array(fc.string(), { maxLength: 5 }))
    .map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc
    .record({
      piece: fc.constantFrom('<', 'a', '<a', '*?', '\\u0000', 'é', '😀', '%', '../', '\\"'),
      n: fc.integer({ min: 1_000, max: 200_000 }),
    })
    .map(({ piece, n }) => `"${piece.repeat(Math.ceil(n / piece.length))}"`),
  fc
    .record({ n: fc.integer({ min: 33, max: 12_000 }), array: fc.boolean() })
    .map(({ n, array }) => (array ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  fc.integer({ min: 100, max: 60_000 }).map((n) => objectText(n)),
  fc.integer({ min: 100, max: 100_000 }).map((n) => `[${Array(n).fill('0').join(',')}]`),
  fc.constantFrom(
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '{"toString":1,"0":2}',
    '{"hasOwnProperty":"x"}',
  ),
  fc.constantFrom('"*?*?*?*?*?*?*?*?*?*?*?*?!"', '"(a+)+$"', '"\\\\"', '"1e309"', '"NaN"', '"2024-13-45T99:99:99Z"', '"now-1000000y"'),
);

/** Keys worth breaking besides the descriptor's own: hygiene fields, search envelope, prototype names. */
const EXTRA_KEYS = [
  'id',
  'title',
  'notes',
  'label',
  'message',
  'icon',
  'color',
  'contrast',
  'query',
  'size',
  'from',
  '_source',
  'aggs',
  'sort',
  'username',
  'password',
  'email',
  '__proto__',
  'constructor',
  'prototype',
  '0',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  undefined,
];

const requestArb = fc.record({
  endpoint: fc.nat(ENDPOINTS.length - 1),
  method: fc.nat(3),
  mutations: fc.array(fc.record({ key: fc.oneof(fc.nat(40), fc.constantFrom(...EXTRA_KEYS)), value: nasty }), {
    minLength: 0,
    maxLength: 3,
  }),
  shape: fc.constantFrom('object', 'object', 'object', 'object', 'duplicate', 'top-level', 'truncated', 'empty'),
  contentType: fc.constantFrom(...CONTENT_TYPES),
  auth: fc.constantFrom('admin', 'admin', 'admin', 'admin', 'none', 'bad-session', 'bad-key'),
  leekHeaders: fc.record({
    org: fc.constantFrom('fuzz', 'localhost', 'Bad Org', ''),
    app: fc.constantFrom('fuzz', 'bad-app', ''),
    env: fc.constantFrom('prod', 'Prod;', ''),
  }),
});

/** One concrete HTTP request from a generated case. */
function build(c, session) {
  const { descriptor, path } = ENDPOINTS[c.endpoint];
  const method = descriptor.methods[c.method % descriptor.methods.length];
  const base = descriptor.params ? sample(descriptor.params) : {};
  const entries = Object.entries(base && typeof base === 'object' && !Array.isArray(base) ? base : {}).map(([k, v]) => [
    k,
    JSON.stringify(v) ?? 'null',
  ]);
  const keys = entries.map(([k]) => k);
  for (const m of c.mutations) {
    const key = typeof m.key === 'number' ? (keys[m.key % Math.max(1, keys.length)] ?? 'id') : m.key;
    const at = entries.findIndex(([k]) => k === key);
    if (at >= 0) entries[at] = [key, m.value];
    else entries.push([key, m.value]);
  }
  const first = c.mutations[0]?.value ?? '"x"';
  let text;
  if (c.shape === 'top-level') text = first;
  else if (c.shape === 'empty') text = '';
  else {
    const pairs = entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`);
    if (c.shape === 'duplicate' && entries.length > 0) pairs.push(`${JSON.stringify(entries[0][0])}:${first}`);
    text = `{${pairs.join(',')}}`;
    if (c.shape === 'truncated') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  }
  const headers = {};
  if (c.auth === 'admin') headers['x-session-id'] = session;
  else if (c.auth === 'bad-session') headers['x-session-id'] = `x${randomBytes(8).toString('hex')}`;
  else if (c.auth === 'bad-key') headers['x-api-key'] = 'not-a-key';
  if (descriptor.namespace === 'leek') {
    headers['x-leek-org-name'] = c.leekHeaders.org;
    headers['x-leek-app-name'] = c.leekHeaders.app;
    headers['x-leek-app-env'] = c.leekHeaders.env;
    headers['x-leek-app-key'] = 'fuzz';
  }
  let url = path;
  let body;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') {
    const query = entries
      .map(
        ([k, v]) =>
          `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent((v.length > 4000 ? v.slice(0, 4000) : v).toWellFormed())}`,
      )
      .join('&');
    if (query) url += `?${query}`;
  } else {
    body =
      c.contentType === 'application/x-www-form-urlencoded'
        ? entries.map(([k, v]) => `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`).join('&')
        : text;
    if (c.contentType) headers['content-type'] = c.contentType;
  }
  return { method, url, headers, body, name: `${descriptor.namespace}/${descriptor.name}` };
}

// ---- the server under test ---------------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), 'shallot-fuzz-'));
const prefix = `fuzz-${randomBytes(4).toString('hex')}`;
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const output = [];
const server = fork(join(ROOT, 'suite/dist/fuzz-server.js'), [], {
  execArgv: ['--expose-gc'],
  env: {
    ...process.env,
    SHALLOT_DATA_DIR: dataDir,
    SHALLOT_REDIS_PREFIX: prefix,
    REDIS_URL: redisUrl,
    SHALLOT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SHALLOT_LOG_LEVEL: process.env.SHALLOT_LOG_LEVEL ?? 'warn',
    // Every request comes from one address: the default /api/user/* rate limit (60/min) would answer most of that
    // namespace with {code: "rate"} and refuse the harness's own admin logins. Fuzz the handlers, not the limiter
    // (services/gateway/test/user-rate-limit.test.ts pins it).
    SHALLOT_USER_RATE_LIMIT: '0',
  },
  stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
});
const keep = (chunk) => {
  output.push(...String(chunk).split('\n').filter(Boolean));
  if (output.length > 200) output.splice(0, output.length - 200);
};
server.stdout.on('data', keep);
server.stderr.on('data', keep);
let serverExited = false;
/** The server's own reports of event-loop gaps over 100 ms, with the requests in flight. */
const stalls = [];
server.on('message', (message) => {
  if (message?.type !== 'stall') return;
  stalls.push(message);
  stalls.sort((a, b) => b.gapMs - a.gapMs);
  stalls.length = Math.min(stalls.length, 10);
});
server.on('exit', () => (serverExited = true));

const cleanup = onceCleanup(async () => {
  if (!serverExited) {
    server.send({ type: 'stop' });
    await Promise.race([new Promise((done) => server.once('exit', done)), new Promise((done) => setTimeout(done, 15_000))]);
    if (!serverExited) server.kill('SIGKILL');
  }
  await removeRunData(redisUrl, prefix, dataDir).catch(() => {});
});
stopOnSignalsAndWatchdog(cleanup, 6 * 60 * 60 * 1000);

const fromServer = (type) =>
  new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      server.off('message', onMessage);
      resolve(message);
    };
    server.on('message', onMessage);
    server.once('exit', (code) => reject(new Error(`the suite exited (code ${code}); its output:\n${output.slice(-40).join('\n')}`)));
  });
const stats = () => {
  const answer = fromServer('stats');
  server.send({ type: 'stats' });
  return answer;
};

const { url: BASE } = await fromServer('ready').catch((error) => {
  process.stderr.write(`${error.message}\n`);
  return cleanup().then(() => process.exit(1));
});

/** The fuzzer's own admin session; waits out the /api/user/* rate limit (the fuzzed logins use it up too). */
async function login() {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${BASE}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const body = await res.json();
    if (body.code === 0) return body.session_id;
    if (body.code !== 'rate' || attempt >= 5) fail(`cannot log in as admin: ${JSON.stringify(body)}`);
    await new Promise((done) => setTimeout(done, 15_000));
  }
}

// ---- the run -----------------------------------------------------------------------------------------------------

let session = await login();
const byStatus = new Map();
const failures = [];
const slow = [];
let sent = 0;
let startRss;
const times = [];

async function one(c) {
  let request;
  try {
    request = build(c, session);
  } catch (error) {
    fail(`the fuzzer could not build a request (a fuzzer bug): ${error.stack}`);
  }
  const started = performance.now();
  let status;
  let answer = '';
  try {
    const res = await fetch(`${BASE}${request.url}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(60_000),
    });
    status = res.status;
    answer = await res.text();
  } catch (error) {
    status = `error: ${error.cause?.code ?? error.name}`;
  }
  const ms = performance.now() - started;
  times.push(ms);
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  const describe = () =>
    `${request.method} ${request.url.slice(0, 120)} [${request.headers['content-type'] ?? '-'}] body ${(request.body ?? '').length} chars: ${(request.body ?? '').slice(0, 160)}`;
  if ((typeof status !== 'number' || status >= 500) && !isDocumentedServerAnswer(status, answer)) {
    failures.push(`${status} ${describe()} → ${answer.slice(0, 300)}`);
  }
  slow.push({ ms, what: `${status} ${describe().slice(0, 200)}` });
  slow.sort((a, b) => b.ms - a.ms);
  slow.length = Math.min(slow.length, 10);
  // Only a refusal of the fuzzer's own session means it ended (a fuzzed call logged it out or changed the account).
  if (c.auth === 'admin' && request.headers['x-session-id'] === session && answer.includes('"code":"session"')) session = await login();
}

const CHUNK = 100;
for (let chunk = 0; sent < REQUESTS; chunk++) {
  const cases = fc.sample(requestArb, { numRuns: Math.min(CHUNK, REQUESTS - sent), seed: SEED + chunk });
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) await one(cases[next++]);
    }),
  );
  const before = sent;
  sent += cases.length;
  if (before < WARM_UP && sent >= WARM_UP) {
    startRss = (await stats()).rssBytes;
    server.send({ type: 'reset' });
  }
  if (!args.json && Math.floor(sent / 10_000) > Math.floor(before / 10_000)) process.stderr.write(`fuzz: ${num(sent)} requests\n`);
  if (serverExited) break;
}

// Nothing half-written: every list call still answers, with records that read back.
const consistency = [];
if (!serverExited) {
  session = await login();
  for (const d of API) {
    if (d.namespace !== 'app' || !/^get_\w+s$/.test(d.name) || (d.params?.required ?? []).length > 0) continue;
    const res = await fetch(`${BASE}/api/app/${d.name}/v1`, {
      method: 'POST',
      headers: { 'x-session-id': session, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200 || body.code !== 0) consistency.push(`${d.name}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
}
const end = serverExited ? undefined : await stats();
const rssLimit = startRss === undefined ? Number.POSITIVE_INFINITY : Math.max(startRss * 1.5, startRss + 100 * 1024 * 1024);
times.sort((a, b) => a - b);
const summary = {
  requests: sent,
  seed: SEED,
  concurrency: CONCURRENCY,
  byStatus: Object.fromEntries([...byStatus].sort(([a], [b]) => String(a).localeCompare(String(b)))),
  serverErrors: failures.length,
  crashed: serverExited,
  p50Ms: Math.round(times[Math.floor(times.length / 2)] ?? 0),
  p99Ms: Math.round(times[Math.floor(times.length * 0.99)] ?? 0),
  slowestMs: Math.round(slow[0]?.ms ?? 0),
  worstStallMs: end ? Math.round(end.maxStallMs) : undefined,
  worstBusyStallMs: Math.round(stalls.reduce((worst, s) => Math.max(worst, Math.min(s.gapMs, s.cpuMs)), 0)),
  rssStartMB: startRss === undefined ? undefined : Math.round(startRss / 2 ** 20),
  rssEndMB: end ? Math.round(end.rssBytes / 2 ** 20) : undefined,
  consistencyErrors: consistency.length,
};
const broken = [];
if (failures.length > 0) broken.push(`${failures.length} answers were 5xx or dropped connections`);
if (serverExited) broken.push('the server exited');
if ((slow[0]?.ms ?? 0) > MAX_MS) broken.push(`the slowest answer took ${Math.round(slow[0].ms)} ms (limit ${MAX_MS})`);
// A stall is ours when the server also burned that much CPU during the gap; on a shared, overloaded machine the
// loop also waits while the OS runs other processes (a gap with little CPU), which no code change can fix.
const busyStallMs = stalls.reduce((worst, s) => Math.max(worst, Math.min(s.gapMs, s.cpuMs)), 0);
if (end && end.maxStallMs > MAX_STALL_MS && busyStallMs > MAX_STALL_MS)
  broken.push(`the event loop stalled ${Math.round(end.maxStallMs)} ms with ${Math.round(busyStallMs)} ms of CPU (limit ${MAX_STALL_MS})`);
if (end && end.rssBytes > rssLimit) broken.push(`RSS grew from ${summary.rssStartMB} MB to ${summary.rssEndMB} MB`);
if (consistency.length > 0) broken.push(`${consistency.length} list calls failed afterwards`);

const lines = [
  `fuzz: ${num(sent)} requests over ${ENDPOINTS.length} routes, seed ${SEED}, concurrency ${CONCURRENCY}`,
  `  by status: ${Object.entries(summary.byStatus)
    .map(([s, n]) => `${s}: ${num(n)}`)
    .join(', ')}`,
  `  latency: p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, slowest ${summary.slowestMs} ms`,
  `  worst event-loop stall: ${summary.worstStallMs ?? '?'} ms (monitorEventLoopDelay), ${summary.worstBusyStallMs} ms of it busy; RSS ${summary.rssStartMB ?? '?'} MB after warm-up → ${summary.rssEndMB ?? '?'} MB at the end`,
  '  slowest requests:',
  ...slow.slice(0, 5).map((s) => `    ${Math.round(s.ms)} ms ${s.what}`),
  ...(stalls.length > 0
    ? [
        '  longest event-loop gaps (busy = loop running and process on a CPU; a gap that is not busy is the machine, not us):',
        ...stalls
          .slice(0, 5)
          .map(
            (s) =>
              `    ${Math.round(s.gapMs)} ms gap, ${Math.round(s.cpuMs)} ms busy (loop ${Math.round(s.loopMs)}, process CPU ${Math.round(s.processCpuMs)}), in flight: ${s.inFlight.join(' | ').slice(0, 300)}`,
          ),
      ]
    : []),
  ...(failures.length > 0 ? ['  5xx / dropped:', ...failures.slice(0, 20).map((f) => `    ${f}`)] : []),
  ...(consistency.length > 0 ? ['  list calls after the run:', ...consistency.map((f) => `    ${f}`)] : []),
  broken.length === 0 ? '  invariants: all held' : `  BROKEN: ${broken.join('; ')}`,
];
process.stderr.write(`${lines.join('\n')}\n`);
if (broken.length > 0 && output.length > 0)
  process.stderr.write(
    `  server output (last lines):\n${output
      .slice(-15)
      .map((l) => `    ${l.slice(0, 400)}`)
      .join('\n')}\n`,
  );
if (args.json) process.stdout.write(`${JSON.stringify({ ...summary, broken, failures: failures.slice(0, 20) })}\n`);
await cleanup();
process.exit(broken.length === 0 ? 0 : 1);
