/**
 * Who runs an ingest batch's store write. On a sqlite file it is a worker thread with its own connection: the write
 * (merge reads, JSON, SQLite, commit) is most of an ingest's CPU, and in the request's thread it would keep the
 * second core idle while HTTP parsing and validation of the next batches wait behind it. Elasticsearch (network I/O)
 * and in-memory sqlite stores (not shareable between connections) write in the request's thread.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, SqliteStore, type Store, StoreError, type StoreErrorKind } from '@shallot/store';
import { within } from '@shallot/core';
import type { FastifyBaseLogger } from 'fastify';
import { type BatchWrite, writeBatch } from './ingest.js';

export interface BatchWriter {
  /** Writes one batch durably, or throws and nothing is written. */
  write(job: BatchWrite): Promise<void>;
  /**
   * Deletes outbox entries the relay has queued. Through the writer, because on sqlite a write from the request's
   * thread would wait for the write thread's lock with the event loop blocked.
   */
  removeFromOutbox(ids: readonly string[]): Promise<void>;
  /** Lets the writes in flight finish, then stops. */
  close(): Promise<void>;
}

/** @default how long `close()` waits for the writes in flight and the thread's exit, in milliseconds */
export const WRITER_CLOSE_TIMEOUT_MS = 10_000;

/**
 * @default the write thread's young generation, MiB (V8's default is 16 or 32): a group of batches, their merged
 * documents and outcomes live together, and with the default much of it is promoted and collected again as old.
 */
export const WRITE_THREAD_YOUNG_GENERATION_MB = 64;

/** The messages between the writer and its thread. */
export type ToWriteThread =
  | { type: 'write'; id: number; job: BatchWrite }
  | { type: 'remove'; id: number; ids: readonly string[] }
  | { type: 'close' };
export interface WriteFailure {
  /** The StoreError kind when the store failed; absent for anything else (a bug: the request answers 500). */
  kind?: StoreErrorKind;
  message: string;
}
export type FromWriteThread = { type: 'written'; id: number } | { type: 'failed'; id: number; failure: WriteFailure };

export function describeFailure(error: unknown): WriteFailure {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof StoreError ? { kind: error.kind, message } : { message };
}

function failureError(failure: WriteFailure): Error {
  return failure.kind === undefined ? new Error(failure.message) : new StoreError(failure.kind, failure.message);
}

/** Deletes outbox entries by id. */
export async function removeFromOutbox(store: Store, ids: readonly string[]): Promise<void> {
  await store.indexes.deleteByQuery(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, { terms: { field: 'id', values: [...ids] } });
}

/** Writes in the request's thread; `refresh: false` answers search-engine writes once durable, not once searchable. */
export function inlineWriter(store: Store, { refresh }: { refresh?: false } = {}): BatchWriter {
  return {
    write: (job) => writeBatch(store, refresh === false ? { ...job, refresh } : job),
    removeFromOutbox: (ids) => removeFromOutbox(store, ids),
    close: async () => {},
  };
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** The thread's entry module, next to this one (`.ts` when the sources run under the test loader). */
const THREAD_MODULE = new URL(`./write-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Writes in a worker thread that owns a second connection to the same sqlite file. Started on the first write;
 * when it dies, the writes in flight fail as 'unavailable' (503: the agent resends them) and the next write starts
 * a new one. SQLite's transaction makes a write that dies with its thread leave nothing behind.
 */
export class ThreadWriter implements BatchWriter {
  /** Writes waiting for the thread's answer (tests check that failures leave none behind). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  readonly #file: string;
  readonly #log: FastifyBaseLogger;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 0;
  #closed = false;

  constructor(file: string, log: FastifyBaseLogger) {
    this.#file = file;
    this.#log = log;
  }

  write(job: BatchWrite): Promise<void> {
    return this.#post((id) => ({ type: 'write', id, job }));
  }

  removeFromOutbox(ids: readonly string[]): Promise<void> {
    return this.#post((id) => ({ type: 'remove', id, ids }));
  }

  #post(message: (id: number) => ToWriteThread): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError('unavailable', 'the ingest service is shutting down'));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        worker.postMessage(message(id));
      } catch (error) {
        // A message that cannot be cloned never reaches the thread: no answer will come for it.
        this.#pending.delete(id);
        reject(error);
      }
    });
  }

  #start(): Worker {
    const worker = new Worker(THREAD_MODULE, {
      workerData: { file: this.#file },
      name: 'shallot-ingest-writer',
      resourceLimits: { maxYoungGenerationSizeMb: WRITE_THREAD_YOUNG_GENERATION_MB },
    });
    worker.unref();
    worker.on('message', (message: FromWriteThread) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (message.type === 'written') pending.resolve();
      else pending.reject(failureError(message.failure));
    });
    worker.on('error', (error) => {
      this.#log.error({ err: error }, 'the ingest write thread failed');
      this.#lost(worker, `the ingest write thread failed: ${error.message}`);
    });
    worker.on('exit', (code) => this.#lost(worker, `the ingest write thread exited (code ${code})`));
    this.#worker = worker;
    return worker;
  }

  /** Every write in flight on a thread that is gone fails; the next write starts a new thread. */
  #lost(worker: Worker, reason: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    for (const pending of this.#pending.values()) pending.reject(new StoreError('unavailable', reason));
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // The thread answers the writes already posted before it reads 'close' (one port, in order).
    worker.postMessage({ type: 'close' } satisfies ToWriteThread);
    if ((await within(exited, WRITER_CLOSE_TIMEOUT_MS)) === 'timeout') {
      this.#log.error('the ingest write thread did not stop in time: terminated');
      await worker.terminate();
    }
  }
}

/** The thread on a sqlite file (unless `useThread` is off), the request's thread otherwise. */
export function createBatchWriter(
  store: Store,
  useThread: boolean,
  log: FastifyBaseLogger,
  refresh: 'wait_for' | 'false' = 'wait_for',
): BatchWriter {
  if (useThread && store instanceof SqliteStore && store.file !== ':memory:') return new ThreadWriter(store.file, log);
  return inlineWriter(store, refresh === 'false' ? { refresh: false } : {});
}
