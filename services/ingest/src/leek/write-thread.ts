/**
 * The ingest write thread (see writer.ts): its own connection to the sqlite file, the task-monitor indexes and
 * merges, and the batches (and the relay's outbox deletions) written in the order they arrive. Batches that wait while
 * a write runs are written together next, in one transaction where each batch is atomic on its own
 * (`bulkUpsertGroup`): one commit for all.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SqliteStore, ensureLeekIndexes, openStore } from '@shallot/store';
import { type BatchWrite, batchUpsert } from './ingest.js';
import { type FromWriteThread, type ToWriteThread, describeFailure, removeFromOutbox } from './writer.js';

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

type Work = { id: number; job: BatchWrite } | { id: number; remove: readonly string[] };
const waiting: Work[] = [];
let closing = false;
let scheduled = false;

/** The next group: the waiting batches ahead of any removal, up to MAX_GROUP_DOCS documents (at least one). */
function nextGroup(): Array<{ id: number; job: BatchWrite }> {
  const group: Array<{ id: number; job: BatchWrite }> = [];
  let docs = 0;
  for (const work of waiting) {
    if (!('job' in work)) break;
    docs += work.job.valid.length + work.job.dead.length;
    if (group.length > 0 && docs > MAX_GROUP_DOCS) break;
    group.push(work);
  }
  waiting.splice(0, group.length);
  return group;
}

async function remove(id: number, ids: readonly string[], store: SqliteStore): Promise<FromWriteThread> {
  try {
    await removeFromOutbox(store, ids);
    return { type: 'written', id };
  } catch (error) {
    return { type: 'failed', id, failure: describeFailure(error) };
  }
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
    const head = waiting[0];
    if (head !== undefined && 'remove' in head) {
      waiting.shift();
      port?.postMessage(await remove(head.id, head.remove, store));
      continue;
    }
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
  else if (message.type === 'remove') waiting.push({ id: message.id, remove: message.ids });
  else waiting.push({ id: message.id, job: message.job });
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => void flush());
  }
});
