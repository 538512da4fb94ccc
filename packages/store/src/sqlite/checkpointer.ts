/**
 * WAL checkpoints from a worker thread: copying the WAL back into the database file and its fsync then run beside
 * the event loop instead of inside whichever write transaction crosses SQLite's automatic threshold (a stall of tens
 * of milliseconds per checkpoint on a busy ingest). The writing connection keeps its automatic checkpoints as a
 * safety net; with this thread running they rarely find anything to do.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** @default how long `stop()` waits for the thread to close its connection before terminating it, in milliseconds */
const STOP_TIMEOUT_MS = 2000;

/** The worker: its own connection, a PASSIVE checkpoint (never waits for readers or writers) every interval. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');

export class BackgroundCheckpointer {
  readonly #file: string;
  readonly #intervalMs: number;
  #worker: Worker | undefined;

  constructor(file: string, intervalMs: number) {
    this.#file = file;
    this.#intervalMs = intervalMs;
  }

  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Starts the thread once; a thread that fails is not restarted (automatic checkpoints still happen). */
  start(): void {
    if (this.#worker !== undefined) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: betterSqlite3, file: this.#file, intervalMs: this.#intervalMs },
    });
    worker.unref();
    worker.on('error', () => {
      // Checkpointing falls back to SQLite's automatic checkpoints in the writing connection.
    });
    this.#worker = worker;
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
    });
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }
}
