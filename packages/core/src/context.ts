/** What every service is given: config, the store, Redis, and the signing key. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Store, openStore } from '@shallot/store';
import type { Config } from './config.js';
import { randomToken } from './ids.js';
import { type ChangeFeed, announceWrites, createChangeFeed } from './changes.js';
import { type RedisWiring, createRedisWiring } from './redis.js';

export interface ServiceContext {
  config: Config;
  store: Store;
  redis: RedisWiring;
  /** Change notices between processes, for the per-process caches; the store announces its collection writes on it. */
  changes: ChangeFeed;
  /** Signs stateless tokens and encrypts secrets. */
  secretKey: string;
}

/** SHALLOT_SECRET_KEY, else a random key kept in the data dir (created on first run, mode 0600). */
export function resolveSecretKey(config: Config): string {
  if (config.secretKey) return config.secretKey;
  const file = join(resolve(config.dataDir), 'secret.key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(resolve(config.dataDir), { recursive: true });
    const key = randomToken(32);
    try {
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      // Another process created it first: use theirs.
      return readFileSync(file, 'utf8').trim();
    }
  }
}

export async function openStoreFor(config: Config): Promise<Store> {
  if (config.store === 'elasticsearch') {
    if (!config.elasticsearchUrl) throw new Error('SHALLOT_STORE=elasticsearch needs ELASTICSEARCH_URL');
    return openStore({ engine: 'elasticsearch', url: config.elasticsearchUrl, prefix: config.elasticsearchPrefix });
  }
  if (config.store === 'opensearch') {
    if (!config.opensearchUrl) throw new Error('SHALLOT_STORE=opensearch needs OPENSEARCH_URL');
    // SHALLOT_ES_PREFIX names the indices on either product.
    return openStore({ engine: 'opensearch', url: config.opensearchUrl, prefix: config.elasticsearchPrefix });
  }
  mkdirSync(resolve(config.dataDir), { recursive: true });
  return openStore({ engine: 'sqlite', file: join(resolve(config.dataDir), 'shallot.db') });
}

export async function openContext(config: Config): Promise<ServiceContext> {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set: point it at a Redis server (redis://127.0.0.1:6379)');
  const secretKey = resolveSecretKey(config);
  const redis = createRedisWiring(config.redisUrl, config.redisPrefix);
  const changes = createChangeFeed(redis, config.redisPrefix);
  const store = announceWrites(await openStoreFor(config), changes);
  return { config, store, redis, changes, secretKey };
}

export async function closeContext(context: ServiceContext): Promise<void> {
  await context.changes.close();
  await context.redis.close();
  await context.store.close();
}
