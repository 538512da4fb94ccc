// Contract: a bulk upsert of 100,000 documents lands whole and is searchable (time is reported, not asserted).
import t from 'tap';
import type { Doc, IndexSpec } from '../../src/index.js';
import { forEachEngine } from '../fixtures/engines.js';

const COUNT = 100_000;
const STATES = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE'];
const SPEC: IndexSpec = {
  name: 'bulk_tasks',
  fields: { state: 'keyword', runtime: 'number', received: 'date', name: 'keyword', message: 'text' },
  hot: ['state', 'received'],
};
const BASE = Date.UTC(2024, 0, 1);

function makeDocs(): Doc[] {
  return Array.from({ length: COUNT }, (_, i) => ({
    id: `task-${i}`,
    state: STATES[i % STATES.length],
    runtime: i % 100,
    received: BASE + i * 1000,
    name: `tasks.n${i % 7}`,
    message: `task number ${i} ran`,
  }));
}

// Each engine's half runs the full load: on a replicated 3-node cluster sharing a 2-core machine with the rest of the
// suite that takes longer than the suite's 180 s per file.
t.setTimeout(600_000);

t.test('bulk contract', async (t) => {
  forEachEngine(t, 'bulk', async (t, { store }) => {
    await store.indexes.ensure(SPEC);
    t.test(`bulkUpsert of ${COUNT.toLocaleString('en')} documents`, async (t) => {
      const docs = makeDocs();
      const started = performance.now();
      const result = await store.indexes.bulkUpsert(SPEC.name, 'big', docs);
      const ms = performance.now() - started;
      t.comment(`${store.engine}: bulkUpsert of ${COUNT} documents took ${ms.toFixed(0)} ms (${Math.round(COUNT / (ms / 1000))} docs/s)`);
      t.same(result, { written: COUNT, unchanged: 0 });
      t.equal(await store.indexes.count(SPEC.name, 'big'), COUNT);
      t.equal(await store.indexes.count(SPEC.name, 'big', { term: { field: 'state', value: 'SUCCESS' } }), COUNT / STATES.length);
      t.equal(await store.indexes.count(SPEC.name, 'big', { range: { field: 'runtime', gte: 99 } }), COUNT / 100);
      t.equal(await store.indexes.count(SPEC.name, 'big', { match: { field: 'message', query: '4242' } }), 1);
      const last = await store.indexes.search(SPEC.name, 'big', { sort: [{ field: 'received', order: 'desc' }], limit: 1 });
      t.equal(last.hits[0]?.id, `task-${COUNT - 1}`);
      t.equal(last.total, COUNT);
      t.equal((await store.indexes.stats(SPEC.name, 'big')).count, COUNT);
    });
    t.test('re-upserting the same batch replaces, not duplicates', async (t) => {
      const docs = makeDocs()
        .slice(0, 10_000)
        .map((d) => ({ ...d, state: 'REVOKED' }));
      const started = performance.now();
      await store.indexes.bulkUpsert(SPEC.name, 'big', docs);
      t.comment(`${store.engine}: re-upsert of 10000 documents took ${(performance.now() - started).toFixed(0)} ms`);
      t.equal(await store.indexes.count(SPEC.name, 'big'), COUNT);
      t.equal(await store.indexes.count(SPEC.name, 'big', { term: { field: 'state', value: 'REVOKED' } }), 10_000);
    });

    t.test('refresh: false answers once durable; searches see the documents soon after', async (t) => {
      const docs = makeDocs()
        .slice(0, 50)
        .map((d) => ({ ...d, id: `later-${d.id}` }));
      let side: Doc[] = [];
      const result = await store.indexes.bulkUpsert(SPEC.name, 'later', docs, {
        refresh: false,
        also: () => {
          side = [{ ...docs[0], id: 'side-0' } as Doc];
          return [{ index: SPEC.name, scope: 'later-side', docs: side }];
        },
      });
      t.same(result, { written: 50, unchanged: 0 });
      t.same(await store.indexes.get(SPEC.name, 'later', 'later-task-7'), docs[7], 'read by id at once (durable)');
      t.same(await store.indexes.get(SPEC.name, 'later-side', 'side-0'), side[0], 'so are the side writes');
      let count = 0;
      for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        count = await store.indexes.count(SPEC.name, 'later');
        if (count === 50) break;
      }
      t.equal(count, 50, 'every document becomes searchable');
    });
  });
});
