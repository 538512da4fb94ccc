/** Test wiring shared by every package: a real Redis under a unique prefix and a real SQLite file in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Config, loadConfig } from './config.js';
import { ElasticsearchStore, type Store, openStore } from '@shallot/store';
import { type ServiceContext, closeContext, openContext } from './context.js';
import { API_KEYS, hashApiKey } from './identity.js';
import { randomToken } from './ids.js';

export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Something with a teardown hook, as tap's `t` is. */
export interface Teardownable {
  teardown(fn: () => unknown): void;
}

/** A store engine an end-to-end test runs on, and the config overrides that select it. */
export interface TestStoreEngine {
  engine: 'sqlite' | 'opensearch' | 'elasticsearch';
  /** Overrides for testConfig/testContext; a cluster gets a unique index prefix whose indices go at teardown. */
  overrides(t: Teardownable): Partial<Config>;
}

/**
 * The engines end-to-end tests run on: sqlite always; OpenSearch when OPENSEARCH_URL is set (scripts/test.mjs starts a
 * local cluster when Java and Maven are present) and Elasticsearch when ELASTICSEARCH_URL is.
 */
export function testStoreEngines(): TestStoreEngine[] {
  const engines: TestStoreEngine[] = [{ engine: 'sqlite', overrides: () => ({}) }];
  const clusters = [
    { engine: 'opensearch', url: process.env.OPENSEARCH_URL },
    { engine: 'elasticsearch', url: process.env.ELASTICSEARCH_URL },
  ] as const;
  for (const { engine, url } of clusters) {
    if (!url) continue;
    engines.push({
      engine,
      overrides: (t) => {
        const prefix = `shallot-e2e-${randomToken(6)
          .toLowerCase()
          .replaceAll(/[^a-z0-9]/g, '0')}-`;
        t.teardown(() => deleteClusterPrefix(engine, url, prefix));
        return engine === 'opensearch'
          ? { store: 'opensearch', opensearchUrl: url, elasticsearchPrefix: prefix }
          : { store: 'elasticsearch', elasticsearchUrl: url, elasticsearchPrefix: prefix };
      },
    });
  }
  return engines;
}

/** Deletes the indices, templates and stored scripts a test created under `prefix`. */
async function deleteClusterPrefix(engine: 'opensearch' | 'elasticsearch', url: string, prefix: string): Promise<void> {
  const store = await openStore({ engine, url, prefix });
  try {
    if (!(store instanceof ElasticsearchStore)) return;
    const client = store.client;
    const indices = await client.indices.names(`${prefix}*`).catch(() => []);
    if (indices.length > 0) await client.indices.delete({ index: indices, ignore_unavailable: true }).catch(() => undefined);
    await client.indices.deleteIndexTemplate({ name: `${prefix}*` }).catch(() => undefined);
    const scripts = await client.storedScriptIds(prefix).catch(() => []);
    await Promise.all(scripts.map((id) => client.deleteScript({ id }).catch(() => undefined)));
  } finally {
    await store.close();
  }
}

/** A config with its own data dir and Redis prefix, both removed when the test ends. */
export function testConfig(t: Teardownable, overrides: Partial<Config> = {}): Config {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-test-'));
  const redisPrefix = `test-${randomToken(6)}`;
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteRedisPrefix(TEST_REDIS_URL, redisPrefix);
  });
  return loadConfig(
    {},
    {
      dataDir,
      redisUrl: TEST_REDIS_URL,
      redisPrefix,
      logLevel: 'silent',
      adminPassword: 'admin-test-password',
      shutdownTimeoutMs: 5000,
      ...overrides,
    },
  );
}

export async function testContext(t: Teardownable, overrides: Partial<Config> = {}): Promise<ServiceContext> {
  const ctx = await openContext(testConfig(t, overrides));
  t.teardown(() => closeContext(ctx));
  return ctx;
}

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * An API key stored directly (not through the API keys endpoints a test may be about): active, unrestricted and
 * without privileges unless `fields` say otherwise. Answers its id and the plain key.
 */
export async function storeApiKey(store: Store, fields: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const key = randomToken(16);
  const id = typeof fields.id === 'string' ? fields.id : `k${randomToken(6)}`;
  await store.collections.create(API_KEYS, {
    title: 'Test key',
    active: true,
    privileges: {},
    roles: [],
    categories: [],
    groups: [],
    expires: 0,
    ...fields,
    id,
    key_hash: hashApiKey(key),
  });
  return { id, key };
}

export interface ReceivedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebHookReceiver {
  /** Every request, in arrival order. */
  requests: ReceivedRequest[];
  /** Answers per path: the statuses to give in turn, the last one repeated (200 when absent); 0 never answers. */
  statuses: Map<string, number[]>;
  url(path?: string): string;
  at(path: string): ReceivedRequest[];
}

/** An HTTP server on loopback standing in for a web hook's target (Slack, a customer's endpoint); closed at teardown. */
export async function webHookReceiver(t: Teardownable, host = '127.0.0.1'): Promise<WebHookReceiver> {
  const requests: ReceivedRequest[] = [];
  const statuses = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const plan = statuses.get(path) ?? [200];
      const status = (plan.length > 1 ? plan.shift() : plan[0]) ?? 200;
      if (status === 0) return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'refused');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    statuses,
    url: (path = '/') => `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    at: (path) => requests.filter((r) => r.path === path),
  };
}
