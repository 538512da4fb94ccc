/** The sqlite engine: one better-sqlite3 file in WAL mode, shared safely by several local processes. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { MergeRegistry } from '../merges.js';
import type { MergeDefinition, Store } from '../types.js';
import { BackgroundCheckpointer } from './checkpointer.js';
import { SqliteCollections } from './collections.js';
import { registerFunctions } from './functions.js';
import { SqliteIndexes } from './indexes.js';
import { migrate } from './migrations.js';

/** @default how long a writer waits for another process's transaction, in milliseconds */
export const BUSY_TIMEOUT_MS = 5000;
/**
 * @default page cache per connection, KiB (SQLite's default is 2 MiB). Index pages of busy tables stay in memory:
 * with the default, bulk merges into a table of some ten thousand documents spend most of their time re-reading pages.
 */
export const CACHE_SIZE_KIB = 64 * 1024;
/**
 * @default WAL pages written before an automatic checkpoint (SQLite's default is 1000, 4 MiB). Fewer checkpoints copy
 * a page rewritten by many transactions back to the database once instead of each time; the WAL file grows to about
 * this many pages (40 MiB) between checkpoints.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** @default interval of the background WAL checkpoints, in milliseconds (0: none, SQLite's automatic ones only) */
export const BACKGROUND_CHECKPOINT_MS = 250;
/**
 * @default documents a connection writes through bulk upserts before it starts its background checkpointer: a busy
 * writer (an ingest) gets the thread, the many small stores of tests and tools never pay for one.
 */
export const BACKGROUND_CHECKPOINT_AFTER_DOCS = 10_000;
const OPEN_ATTEMPTS = 20;

export interface SqliteStoreOptions {
  /** Path of the database file (created with its directory when missing); ':memory:' for a private in-memory store. */
  file: string;
  /** @default BUSY_TIMEOUT_MS */
  busyTimeoutMs?: number;
  /** @default CACHE_SIZE_KIB */
  cacheSizeKiB?: number;
  /** @default WAL_AUTOCHECKPOINT_PAGES */
  walAutocheckpointPages?: number;
  /** @default BACKGROUND_CHECKPOINT_MS */
  backgroundCheckpointMs?: number;
  /** Wall-clock budget of one search (all its statements); past it the search fails. @default SEARCH_BUDGET_MS */
  searchBudgetMs?: number;
}

/** A search holds the event loop while it runs (better-sqlite3 is synchronous): `SHALLOT_SEARCH_BUDGET_MS` bounds it. */
export const SEARCH_BUDGET_MS = Number(process.env.SHALLOT_SEARCH_BUDGET_MS) > 0 ? Number(process.env.SHALLOT_SEARCH_BUDGET_MS) : 1000;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/** Retries setup statements that other processes opening the same file may briefly block (WAL switch, first migration). */
function withBusyRetry<T>(fn: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || attempt >= OPEN_ATTEMPTS) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25 * attempt);
    }
  }
}

const UNAVAILABLE_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

/** Engine failures a caller cannot fix by changing the request become 'unavailable'; everything else passes through. */
export function mapSqliteError(error: unknown, file: string): unknown {
  if (error instanceof StoreError) return error;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if ([...UNAVAILABLE_CODES].some((c) => code.startsWith(c)) || /database connection is not open/.test(message)) {
    const hint = code.startsWith('SQLITE_BUSY') ? ' (another process held the write lock too long; retry)' : '';
    return new StoreError('unavailable', `sqlite store ${file}: ${message}${hint}`, { cause: error });
  }
  return error;
}

/** Wraps every method so engine errors surface as StoreErrors; methods run against the target (private fields). */
function guarded<T extends object>(target: T, file: string): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(t, args);
          return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(mapSqliteError(error, file))) : result;
        } catch (error) {
          return Promise.reject(mapSqliteError(error, file));
        }
      };
    },
  });
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly collections: SqliteCollections;
  readonly indexes: SqliteIndexes;
  readonly file: string;
  readonly #db: Database.Database;
  readonly #merges = new MergeRegistry();
  readonly #checkpointer: BackgroundCheckpointer | undefined;
  #bulkWritten = 0;

  private constructor(file: string, db: Database.Database, backgroundCheckpointMs: number, searchBudgetMs: number) {
    this.file = file;
    this.#db = db;
    this.#checkpointer =
      file === ':memory:' || backgroundCheckpointMs <= 0 ? undefined : new BackgroundCheckpointer(file, backgroundCheckpointMs);
    this.collections = guarded(new SqliteCollections(db), file);
    const indexes = new SqliteIndexes(db, this.#merges, {
      onBulkWrite: (docs) => this.#noteBulkWrite(docs),
      searchBudgetMs,
      mapError: (error) => mapSqliteError(error, file),
    });
    this.indexes = guarded(indexes, file);
  }

  #noteBulkWrite(docs: number): void {
    if (this.#checkpointer === undefined || this.#checkpointer.running) return;
    this.#bulkWritten += docs;
    if (this.#bulkWritten >= BACKGROUND_CHECKPOINT_AFTER_DOCS && this.#db.open) this.#checkpointer.start();
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const {
      file,
      busyTimeoutMs = BUSY_TIMEOUT_MS,
      cacheSizeKiB = CACHE_SIZE_KIB,
      walAutocheckpointPages = WAL_AUTOCHECKPOINT_PAGES,
      backgroundCheckpointMs = BACKGROUND_CHECKPOINT_MS,
      searchBudgetMs = SEARCH_BUDGET_MS,
    } = options;
    if (typeof file !== 'string' || file === '') throw new StoreError('invalid', 'sqlite store: file must be a path');
    let db: Database.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { timeout: busyTimeoutMs });
    } catch (error) {
      throw new StoreError('unavailable', `cannot open sqlite file ${file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      if (file !== ':memory:') withBusyRetry(() => db.pragma('journal_mode = WAL'));
      db.pragma('synchronous = NORMAL');
      // Negative cache_size is in KiB; both are per connection and need no lock.
      db.pragma(`cache_size = ${-Math.max(0, Math.trunc(cacheSizeKiB))}`);
      db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.trunc(walAutocheckpointPages))}`);
      registerFunctions(db);
      withBusyRetry(() => migrate(db));
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError('unavailable', `cannot prepare sqlite file ${file}: ${(error as Error).message}`, { cause: error });
    }
    return new SqliteStore(file, db, backgroundCheckpointMs, searchBudgetMs);
  }

  /** The file's schema version (`PRAGMA user_version`). */
  schemaVersion(): number {
    return Number(this.#db.pragma('user_version', { simple: true }));
  }

  /** The pragmas that make the file safe to share, for diagnostics. */
  settings(): { journalMode: string; synchronous: number; busyTimeout: number } {
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
      busyTimeout: Number(this.#db.pragma('busy_timeout', { simple: true })),
    };
  }

  registerMerge(merge: MergeDefinition): void {
    this.#merges.register(merge);
  }

  async ping(): Promise<void> {
    if (!this.#db.open) throw new StoreError('unavailable', `the sqlite store for ${this.file} is closed`);
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.#checkpointer?.stop();
    if (this.#db.open) this.#db.close();
  }
}
