/** Redis connections: a prefixed client for live state, and BullMQ connection settings. */
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisWiring {
  /** Client for live state; every key is under `<prefix>:`. */
  client: Redis;
  /** Prefix BullMQ puts before its queue keys. */
  bullPrefix: string;
  /** A fresh connection for BullMQ (workers need their own blocking connection). */
  connect(options?: RedisOptions): Redis;
  close(): Promise<void>;
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
  return {
    client,
    bullPrefix: `${prefix}:bull`,
    connect,
    async close() {
      await Promise.allSettled(opened.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
