// Contract: the Leek task and worker merges through every engine (sqlite's JS merge, Elasticsearch's Painless script):
// the worked cases of leek-merge-rules §6, redelivery and repeated ids inside one bulk request.
import t from 'tap';
import { type Doc, ElasticsearchStore, type IndexSpec, type MergeDefinition, type MergeFn } from '../../src/index.js';
import { mergeTaskDocument, mergeWorkerDocument, taskMerge, workerMerge } from '../../src/leek/index.js';
import { forEachEngine } from '../fixtures/engines.js';
import {
  type MergeCase,
  RETRY_LIFE,
  TASK_CASES,
  WORKER_CASES,
  expectedAfter,
  shuffled,
  task,
  withRedeliveries,
  worker,
} from '../fixtures/leek-cases.js';

const TASKS: IndexSpec = {
  name: 'leek_tasks',
  fields: {
    uuid: 'keyword',
    state: 'keyword',
    name: 'keyword',
    worker: 'keyword',
    exact_timestamp: 'number',
    timestamp: 'date',
    events_count: 'number',
  },
  hot: ['state', 'timestamp'],
  merge: taskMerge.name,
};
const WORKERS: IndexSpec = {
  name: 'leek_workers',
  fields: { hostname: 'keyword', state: 'keyword', exact_timestamp: 'number', events_count: 'number' },
  merge: workerMerge.name,
};
const SCOPE = 'leek-contract';

const withId = (doc: Doc, id: string): Doc => ({ ...doc, id });

/** The stored document after `docs` in order, by the pure function, and how many were merged. */
function fold(merge: MergeFn, docs: readonly Doc[]): { doc: Doc | undefined; written: number } {
  let doc: Doc | undefined;
  let written = 0;
  for (const incoming of docs) {
    const next = merge(doc, incoming);
    if (next !== undefined) {
      doc = next;
      written++;
    }
  }
  return { doc, written };
}

t.test('leek merge contract', async (t) => {
  forEachEngine(t, 'leekmerge', async (t, { store, options }) => {
    if (store instanceof ElasticsearchStore && options.engine !== 'sqlite') {
      const prefix = options.prefix ?? '';
      // The shared cleanup knows only the test merges' scripts: remove ours too.
      t.teardown(async () => {
        for (const merge of [taskMerge, workerMerge])
          await store.client.deleteScript({ id: `${prefix}merge-${merge.name}` }).catch(() => undefined);
      });
    }
    store.registerMerge(taskMerge);
    store.registerMerge(workerMerge);
    await store.indexes.ensure(TASKS);
    await store.indexes.ensure(WORKERS);

    const runCase = (c: MergeCase, index: string, merge: MergeDefinition, id: string): void => {
      t.test(`merge: ${c.name} (${c.row}, ${c.rule})`, async (t) => {
        const incoming = withId(c.incoming, id);
        let stored: Doc | undefined;
        if (c.stored !== undefined) {
          const seed = withId(c.stored, id);
          stored = await store.indexes.upsert(index, SCOPE, seed);
          t.strictSame(stored, merge.js(undefined, seed), 'the stored document is seeded by a first write');
        }
        const expected = expectedAfter(stored, incoming, c.expect);
        const result = await store.indexes.bulkUpsert(index, SCOPE, [incoming]);
        t.strictSame(result, expected === undefined ? { written: 0, unchanged: 1 } : { written: 1, unchanged: 0 }, 'bulk result');
        t.strictSame(await store.indexes.get(index, SCOPE, id), expected ?? stored, 'stored document');
        t.strictSame(await store.indexes.upsert(index, SCOPE, incoming), expected ?? stored, 'a redelivery through upsert changes nothing');
      });
    };
    for (const c of TASK_CASES) runCase(c, TASKS.name, taskMerge, `task-${c.row.replace('#', '')}`);
    for (const c of WORKER_CASES) runCase(c, WORKERS.name, workerMerge, `worker-${c.row.toLowerCase()}`);

    t.test('merge: one bulk request with redeliveries and repeated ids ends as the distinct documents merged once', async (t) => {
      for (const seed of [3, 7]) {
        const id = `life-${seed}`;
        const order = shuffled(RETRY_LIFE, seed).map((d) => withId(d, id));
        const delivered = withRedeliveries(order, seed);
        const expected = fold(mergeTaskDocument, order);
        const result = await store.indexes.bulkUpsert(TASKS.name, SCOPE, delivered);
        t.strictSame(result, { written: expected.written, unchanged: delivered.length - expected.written }, `seed ${seed}: bulk result`);
        t.strictSame(await store.indexes.get(TASKS.name, SCOPE, id), expected.doc, `seed ${seed}: stored document`);
        const again = await store.indexes.bulkUpsert(TASKS.name, SCOPE, order);
        t.strictSame(again, { written: 0, unchanged: order.length }, `seed ${seed}: the whole batch redelivered is a no-op`);
      }
    });

    t.test('merge: a worker batch with a late ONLINE and its redelivery', async (t) => {
      const docs = [
        worker('ONLINE', 0.5),
        worker('HEARTBEAT', 30.0, { processed: 57 }, 14),
        worker('OFFLINE', 90.0, { processed: 61 }),
        worker('HEARTBEAT', 60.0, { processed: 59 }),
      ];
      const delivered = [...docs, docs[3] as Doc, docs[0] as Doc].map((d) => withId(d, 'worker-batch'));
      const expected = fold(mergeWorkerDocument, delivered.slice(0, 4));
      t.strictSame(await store.indexes.bulkUpsert(WORKERS.name, SCOPE, delivered), { written: 4, unchanged: 2 });
      t.strictSame(await store.indexes.get(WORKERS.name, SCOPE, 'worker-batch'), expected.doc);
      t.match(expected.doc, { state: 'OFFLINE', processed: 59, events_count: 17 });
    });

    t.test('merge: a first write through the engine removes a root_id naming the task itself', async (t) => {
      const stored = await store.indexes.upsert(
        TASKS.name,
        SCOPE,
        withId(task('QUEUED', 100.0, { root_id: 't1', parent_id: 'p0' }), 'root-fix'),
      );
      t.notOk(stored !== undefined && 'root_id' in stored);
      t.equal(stored?.parent_id, 'p0');
    });
  });
});
