/**
 * The ingest write thread (see writer.ts): its own connection to the sqlite file, the task-monitor indexes and
 * merges, and the batches written in the order they arrive. Batches that wait while a write runs are written
 * together next, in one transaction where each batch is atomic on its own (`bulkUpsertGroup`): one commit for all.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SqliteStore, ensureLeekIndexes, openStore } from '@shallot/store';
import { type BatchWrite, batchUpsert } from './ingest.js';
import { type FromWriteThread, type ToWriteThread, describeFailure } from './writer.js';

/**
 * @default documents written in one transaction at most (ten 500-document batches): a long queue still answers its
 * first batches soon. Measured with 8 agents: one commit per group instead of per batch gives ~8 % more events/s.
 */
const MAX_GROUP_DOCS = 5000;

const port = parentPort;
if (port === null) throw new Error('write-thread.js runs as a worker thread of the ingest service');
const { file } = workerData as { file: string };

const opened = openStore({ engine: 'sqlite', file }).then(async (store) => {
  await ensureLeekIndexes(store);
  return store as SqliteStore;
});
// A store that cannot open fails the writes waiting so far and ends the thread; the next write starts a new one.
opened.catch(() => {});

const waiting: Array<{ id: number; job: BatchWrite }> = [];
let closing = false;
let scheduled = false;

/** The next group: waiting batches up to MAX_GROUP_DOCS documents (always at least one). */
function nextGroup(): Array<{ id: number; job: BatchWrite }> {
  let docs = 0;
  let count = 0;
  while (count < waiting.length) {
    docs += (waiting[count]?.job.valid.length ?? 0) + (waiting[count]?.job.dead.length ?? 0);
    if (count > 0 && docs > MAX_GROUP_DOCS) break;
    count++;
  }
  return waiting.splice(0, count);
}

async function flush(): Promise<void> {
  scheduled = false;
  let store: SqliteStore;
  try {
    store = await opened;
  } catch (error) {
    for (const { id } of waiting.splice(0))
      port?.postMessage({ type: 'failed', id, failure: describeFailure(error) } satisfies FromWriteThread);
    process.exit(1);
  }
  while (waiting.length > 0) {
    const group = nextGroup();
    let answers: FromWriteThread[];
    try {
      const settled = await store.indexes.bulkUpsertGroup(group.map(({ job }) => batchUpsert(job)));
      answers = group.map(({ id }, i): FromWriteThread => {
        const outcome = settled[i];
        if (outcome === undefined || 'error' in outcome) return { type: 'failed', id, failure: describeFailure(outcome?.error) };
        return { type: 'written', id };
      });
    } catch (error) {
      answers = group.map(({ id }) => ({ type: 'failed', id, failure: describeFailure(error) }));
    }
    for (const answer of answers) port?.postMessage(answer);
  }
  if (closing) {
    await store.close();
    port?.close();
  }
}

port.on('message', (message: ToWriteThread) => {
  // The thread answers every write posted before 'close' (one port, in order), then closes its connection.
  if (message.type === 'close') closing = true;
  else waiting.push({ id: message.id, job: message.job });
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => void flush());
  }
});
