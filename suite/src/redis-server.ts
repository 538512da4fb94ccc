/** Finds a Redis for the embedded suite: REDIS_URL, else a local one on 6379, else one started under the data dir. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_LOCAL_REDIS, RedisNotFoundError, redisAnswers } from '@shallot/core';
import { freePort } from '@shallot/core';

export { DEFAULT_LOCAL_REDIS, RedisNotFoundError };

const START_TIMEOUT_MS = 10_000;

export interface RedisForSuite {
  url: string;
  /** Set when the suite started its own redis-server. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

/** Kept under its old name for the suite's callers and tests. */
export const answers = redisAnswers;

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function findOrStartRedis(
  configuredUrl: string,
  dataDir: string,
  localUrl: string = DEFAULT_LOCAL_REDIS,
): Promise<RedisForSuite> {
  const none = { stop: async () => {} };
  if (configuredUrl) {
    if (await answers(configuredUrl)) return { url: configuredUrl, ...none };
    throw new RedisNotFoundError(`Redis at REDIS_URL=${configuredUrl} is not answering; start it or unset REDIS_URL.`);
  }
  if (await answers(localUrl)) return { url: localUrl, ...none };
  if (!hasRedisServer()) {
    throw new RedisNotFoundError(
      'Shallot needs Redis: set REDIS_URL to a running server, or install redis-server (e.g. `apt-get install redis-server`) and Shallot will start one itself.',
    );
  }
  const dir = join(resolve(dataDir), 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await answers(url, 500)) {
      return {
        url,
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new RedisNotFoundError(`redis-server did not start on port ${port} within ${START_TIMEOUT_MS / 1000} s.`);
}
