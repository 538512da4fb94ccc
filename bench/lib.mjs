/**
 * What the benchmark commands share: option checks, the services' processes, their cleanup (processes, Redis keys,
 * data dir) and a few figures.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** /proc reports process times in USER_HZ ticks, 100 per second on Linux. */
const CLOCK_TICKS = 100;

/** Stops the command on a bad option or a missing prerequisite: the message on stderr, exit 1. */
export function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

/** The value of option `--name` of `args` (from parseArgs) as a whole number from min to max, or `fail`. */
export function wholeNumber(args, name, min, max) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be a whole number from ${min} to ${max}`);
  return value;
}

/** This process's environment for a service, without the SHALLOT_* settings (and service URLs) of the caller's shell. */
export function inheritedEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SHALLOT_') && key !== 'REDIS_URL' && key !== 'ELASTICSEARCH_URL') env[key] = value;
  }
  return env;
}

/** A TCP port of 127.0.0.1 that is free right now, for a service to listen on. */
export function freePort() {
  return new Promise((done, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Polls `url + path` until it answers 2xx; throws, naming `label` and the last answer, after `timeoutMs`. */
export async function waitReady(label, url, { path = '/ready', timeoutMs = 20_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${label} was not ready within ${timeoutMs / 1000} s (last answer: ${last})`);
}

/**
 * A run's cleanup, made once: signal, watchdog, early exit and the normal end all await the same `steps()`.
 * `cleanup.begun()` says whether it has started (a child exiting after that is expected).
 */
export function onceCleanup(steps) {
  let cleaned;
  const cleanup = () => {
    cleaned ??= steps();
    return cleaned;
  };
  cleanup.begun = () => cleaned !== undefined;
  return cleanup;
}

/**
 * Keeps the last 40 lines a child prints in `output`; should it exit before `cleanup` has begun, prints them (naming it
 * `label`), cleans up and exits 1.
 */
export function superviseChild(child, label, output, cleanup) {
  const keep = (chunk) => {
    output.push(...String(chunk).split('\n').filter(Boolean));
    if (output.length > 40) output.splice(0, output.length - 40);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    if (cleanup.begun()) return;
    process.stderr.write(`bench: ${label} exited early (code ${code}, signal ${signal}); its last output:\n`);
    for (const line of output) process.stderr.write(`  ${line}\n`);
    cleanup().then(() => process.exit(1));
  });
}

/** Stops a child process: SIGTERM, then SIGKILL if it is still running after `killAfterMs`; resolves once it has exited. */
export function stopChild(child, killAfterMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Removes the keys a run created under `prefix` (sessions, queues…) from the shared Redis, by SCAN + UNLINK. */
export async function deleteRedisKeys(redisUrl, prefix) {
  // ioredis is a dependency of the suite package; borrow it rather than adding another Redis client.
  const Redis = createRequire(join(ROOT, 'suite/package.json'))('ioredis');
  const redis = new (Redis.default ?? Redis)(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Removes what a run leaves once its processes are stopped: its Redis keys (a failure is reported, not thrown) and data dir. */
export async function removeRunData(redisUrl, prefix, dataDir) {
  await deleteRedisKeys(redisUrl, prefix).catch((error) =>
    process.stderr.write(`bench: could not delete ${prefix}* keys: ${error.message}\n`),
  );
  rmSync(dataDir, { recursive: true, force: true });
}

/** Cleans up and exits on SIGINT, SIGTERM or SIGHUP (130), and when the run is still going after `watchdogMs` (1). */
export function stopOnSignalsAndWatchdog(cleanup, watchdogMs) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping\n`);
      cleanup().then(() => process.exit(130));
    });
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${watchdogMs / 1000} s, stopping\n`);
    cleanup().then(() => process.exit(1));
  }, watchdogMs);
  watchdog.unref();
}

/** CPU time (user + system, ms) a child process has used so far, from /proc; undefined where there is no /proc. */
export function childCpuMs(child) {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name, in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** The `q` quantile (0 < q <= 1) of ascending `sorted` values (an array or typed array): the nearest rank; NaN when empty. */
export function quantile(sorted, q) {
  const count = sorted.length;
  return count === 0 ? Number.NaN : sorted[Math.min(count - 1, Math.ceil(q * count) - 1)];
}

/** A count or rate for the tables: rounded, with thousands separators. */
export const num = (value) => Math.round(value).toLocaleString('en-US');
