/** Redis connections: a prefixed client for live state, and BullMQ connection settings. */
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisWiring {
  /** Client for live state; every key is under `<prefix>:`. */
  client: Redis;
  /** Prefix BullMQ puts before its queue keys. */
  bullPrefix: string;
  /**
   * Calls `listener` when the live-state client loses Redis or gets it back (once per change, not per retry);
   * answers a function that stops listening.
   */
  onStateChange(listener: (change: RedisStateChange) => void): () => void;
  /** A fresh connection for BullMQ (workers need their own blocking connection). */
  connect(options?: RedisOptions): Redis;
  close(): Promise<void>;
}

export interface RedisStateChange {
  state: 'down' | 'up';
  /** The first error of an outage (code or message). */
  reason?: string;
}

/**
 * A command that failed because Redis is unreachable (not a reply error from a reachable Redis). Only ioredis's own
 * errors: a bare ECONNREFUSED may come from anything else (a web hook target, an upstream).
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.';
}

export function createRedisWiring(url: string, prefix: string): RedisWiring {
  const opened: Redis[] = [];
  const connect = (options: RedisOptions = {}): Redis => {
    const connection = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null, ...options });
    connection.on('error', () => {
      // Connection errors surface through commands and /ready; ioredis keeps reconnecting.
    });
    opened.push(connection);
    return connection;
  };
  const client = connect({ keyPrefix: `${prefix}:`, maxRetriesPerRequest: 2 });
  const listeners = new Set<(change: RedisStateChange) => void>();
  let down = false;
  let closing = false;
  const change = (next: RedisStateChange) => {
    if (closing || down === (next.state === 'down')) return;
    down = next.state === 'down';
    for (const listener of listeners) listener(next);
  };
  client.on('error', (error: Error & { code?: string }) => change({ state: 'down', reason: error.code ?? error.message }));
  client.on('close', () => change({ state: 'down', reason: 'connection closed' }));
  client.on('ready', () => change({ state: 'up' }));
  return {
    client,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    bullPrefix: `${prefix}:bull`,
    connect,
    async close() {
      closing = true;
      await Promise.allSettled(opened.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** The Redis a process uses when REDIS_URL is unset, if it answers. */
export const DEFAULT_LOCAL_REDIS = 'redis://127.0.0.1:6379';

/** No Redis to use: the message is one sentence saying what to do. */
export class RedisNotFoundError extends Error {
  readonly kind = 'redis';
}

/** Whether a Redis answers PING at `url` within `timeoutMs` (no retries). */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * The Redis a separately run service uses: REDIS_URL when it answers, else the local one on 6379 when it answers.
 * Unlike the embedded suite, a service never starts a redis-server of its own: the services of one install must
 * share one Redis (queues, sessions cache, rate limits), so each starting its own would split them.
 */
export async function locateRedis(configuredUrl: string, localUrl: string = DEFAULT_LOCAL_REDIS): Promise<string> {
  if (configuredUrl) {
    if (await redisAnswers(configuredUrl)) return configuredUrl;
    throw new RedisNotFoundError(`Redis at REDIS_URL=${configuredUrl} is not answering; start it or unset REDIS_URL.`);
  }
  if (await redisAnswers(localUrl)) return localUrl;
  throw new RedisNotFoundError(
    `No Redis answers at ${localUrl}: start one there, or set REDIS_URL to the Redis every Shallot service of this install shares.`,
  );
}
