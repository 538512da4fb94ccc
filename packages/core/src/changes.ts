/**
 * Change notices for the per-process caches (callers, sessions, collection reads): a change is applied to this
 * process's listeners at once and sent to every other process over Redis pub/sub, so a revocation or a role change
 * takes effect everywhere within milliseconds. Caches serve only while the subscription is live: a process that may
 * have missed a notice (subscriber connection lost) forgets everything and reads through until it is back.
 */
import { randomBytes } from 'node:crypto';
import type { Collections, Store } from '@shallot/store';
import type { Redis } from 'ioredis';
import type { RedisWiring } from './redis.js';

/** `collection` '*' means "forget everything". */
export type ChangeListener = (collection: string, id: string) => void;

export interface ChangeFeed {
  /** Applies a change here, then tells the other processes; resolves once Redis took the message. */
  publish(collection: string, id: string): Promise<void>;
  subscribe(listener: ChangeListener): () => void;
  /** True while notices from other processes are known to arrive. */
  readonly live: boolean;
  /** Bumped by every notice about `collection` (and by '*'): a cache fills only if it did not move during the read. */
  version(collection: string): number;
  close(): Promise<void>;
}

/** Collections whose writes are not broadcast by the store wrapper (their owners publish what matters). */
const UNWATCHED = new Set(['sessions']);

export function createChangeFeed(redis: RedisWiring, prefix: string): ChangeFeed {
  const channel = `${prefix}:changes`;
  const origin = randomBytes(8).toString('hex');
  const listeners = new Set<ChangeListener>();
  const versions = new Map<string, number>();
  let everything = 0;
  let live = false;
  let closed = false;

  const apply = (collection: string, id: string) => {
    if (collection === '*') everything++;
    else versions.set(collection, (versions.get(collection) ?? 0) + 1);
    for (const listener of listeners) listener(collection, id);
  };

  const subscriber: Redis = redis.connect({ maxRetriesPerRequest: null });
  subscriber.on('message', (_channel: string, message: string) => {
    let notice: unknown;
    try {
      notice = JSON.parse(message);
    } catch {
      notice = undefined;
    }
    if (!Array.isArray(notice) || notice.length !== 3 || !notice.every((part) => typeof part === 'string')) {
      // Not one of ours: forget everything rather than miss a change.
      apply('*', '');
      return;
    }
    const [from, collection, id] = notice as [string, string, string];
    if (from !== origin) apply(collection, id);
  });
  subscriber.on('ready', () => {
    // After a reconnect ioredis resubscribes; a notice lost in that instant is covered by the caches' maximum age.
    if (closed) return;
    live = true;
    apply('*', '');
  });
  subscriber.on('close', () => {
    if (live) apply('*', '');
    live = false;
  });
  subscriber.subscribe(channel).then(
    () => {
      if (!closed) live = subscriber.status === 'ready';
    },
    () => {
      // Redis away at start: 'ready' will set live once it is back.
    },
  );

  return {
    async publish(collection, id) {
      apply(collection, id);
      await redis.client.publish(channel, JSON.stringify([origin, collection, id]));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get live() {
      return live;
    },
    version(collection) {
      return everything + (versions.get(collection) ?? 0);
    },
    async close() {
      // The connection itself is closed with the others by RedisWiring.close (a pending subscribe never blocks this).
      closed = true;
      live = false;
      listeners.clear();
    },
  };
}

/**
 * The store with every collection write announced on the feed (after it is stored). A Proxy, so the engine's own
 * class (`instanceof SqliteStore`, its file) stays visible to code that needs it.
 */
export function announceWrites(store: Store, feed: ChangeFeed): Store {
  const inner = store.collections;
  // Local caches learn at once (synchronously); a failed broadcast means Redis is away, and then every other
  // process has lost its subscription too and stopped serving from its caches.
  const announce = (collection: string, id: string) => {
    if (!UNWATCHED.has(collection)) feed.publish(collection, id).catch(() => {});
  };
  const collections: Collections = {
    get: (collection, id) => inner.get(collection, id),
    list: (collection, options) => inner.list(collection, options),
    async create(collection, record) {
      const stored = await inner.create(collection, record);
      announce(collection, stored.id);
      return stored;
    },
    async update(collection, id, patch, options) {
      const stored = await inner.update(collection, id, patch, options);
      announce(collection, id);
      return stored;
    },
    async patchMany(collection, patches) {
      const count = await inner.patchMany(collection, patches);
      announce(collection, '*');
      return count;
    },
    async delete(collection, id) {
      const deleted = await inner.delete(collection, id);
      announce(collection, id);
      return deleted;
    },
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'collections') return collections;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Safety net for cached reads: change notices are the real invalidation. */
const READ_CACHE_MAX_AGE_MS = 10_000;

/**
 * One read about `collection`, cached in this process: served again while the feed is live and nothing in the
 * collection changed since it was read (a change during the read leaves it uncached). Callers must not mutate it.
 */
export function cachedRead<T>(changes: ChangeFeed, collection: string, load: () => Promise<T>): () => Promise<T> {
  let value: T | undefined;
  let version = -1;
  let at = 0;
  return async () => {
    if (value !== undefined && changes.live && changes.version(collection) === version && Date.now() - at < READ_CACHE_MAX_AGE_MS) {
      return value;
    }
    const before = changes.version(collection);
    const loaded = await load();
    if (changes.live && changes.version(collection) === before) {
      value = loaded;
      version = before;
      at = Date.now();
    } else value = undefined;
    return loaded;
  };
}
