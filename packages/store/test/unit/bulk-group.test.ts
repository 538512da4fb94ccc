// The sqlite engine's bulkUpsertGroup: several bulk upserts in one transaction, each atomic on its own.
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type Doc, SqliteStore, StoreError, isStoreError, taskMerge } from '../../src/index.js';
import { taskAt } from '../fixtures/data.js';
import { tempDir } from '../fixtures/engines.js';

const TASKS = { name: 'group_tasks', fields: { state: 'keyword' as const }, hot: ['state'], merge: taskMerge.name };
const SIDE = { name: 'group_side', fields: { n: 'number' as const } };

const task = taskAt;

async function openStore(t: Test): Promise<SqliteStore> {
  const store = SqliteStore.open({ file: join(tempDir(t, 'group'), 'store.db') });
  t.teardown(() => store.close());
  store.registerMerge(taskMerge);
  await store.indexes.ensure(TASKS);
  await store.indexes.ensure(SIDE);
  return store;
}

t.test('every call of a group is written, with its own outcomes and `also` writes', async (t) => {
  const store = await openStore(t);
  await store.indexes.bulkUpsert(TASKS.name, 'a', [task('t1', 'QUEUED', 1)]);
  const settled = await store.indexes.bulkUpsertGroup([
    {
      index: TASKS.name,
      scope: 'a',
      docs: [task('t1', 'STARTED', 2)],
      options: { outcomes: true, also: (o) => [{ index: SIDE.name, scope: 'a', docs: [{ id: 'count', n: o.length }] }] },
    },
    { index: TASKS.name, scope: 'b', docs: [task('t1', 'QUEUED', 1), task('t2', 'QUEUED', 1)] },
  ]);
  t.same(
    settled.map((s) => ('result' in s ? { written: s.result.written, unchanged: s.result.unchanged } : 'failed')),
    [
      { written: 1, unchanged: 0 },
      { written: 2, unchanged: 0 },
    ],
  );
  const first = settled[0];
  t.same(first !== undefined && 'result' in first ? first.result.outcomes?.map((o) => [o.previous?.state, o.current?.state]) : null, [
    ['QUEUED', 'STARTED'],
  ]);
  t.equal((await store.indexes.get(TASKS.name, 'a', 't1'))?.state, 'STARTED');
  t.equal(await store.indexes.count(TASKS.name, 'b'), 2);
  t.same(await store.indexes.get(SIDE.name, 'a', 'count'), { id: 'count', n: 1 });
});

t.test('a call that fails is rolled back alone and answered as its error; the others commit', async (t) => {
  const store = await openStore(t);
  const settled = await store.indexes.bulkUpsertGroup([
    { index: TASKS.name, scope: 'a', docs: [task('ok1', 'QUEUED', 1)] },
    // The first document is written, then the second fails: the call writes neither.
    { index: TASKS.name, scope: 'a', docs: [task('half', 'QUEUED', 1), { state: 'QUEUED' } as unknown as Doc] },
    { index: 'not_declared', scope: 'a', docs: [task('x', 'QUEUED', 1)] },
    {
      index: TASKS.name,
      scope: 'a',
      docs: [task('also_fails', 'QUEUED', 1)],
      options: {
        also: () => {
          throw new StoreError('invalid', 'derived writes refused');
        },
      },
    },
    { index: TASKS.name, scope: 'a', docs: [task('ok2', 'QUEUED', 1)] },
  ]);
  const kinds = settled.map((s) => ('error' in s ? (isStoreError(s.error) ? s.error.kind : 'other') : 'written'));
  t.same(kinds, ['written', 'invalid', 'notfound', 'invalid', 'written']);
  const ids = (await store.indexes.search(TASKS.name, 'a', { sort: [{ field: 'id', order: 'asc' }] })).hits.map((d) => d.id);
  t.same(ids, ['ok1', 'ok2'], 'nothing of the failed calls is stored');
});
