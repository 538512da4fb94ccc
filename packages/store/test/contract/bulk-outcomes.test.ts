// Contract: bulkUpsert's per-document outcomes and `also` writes, and the task-monitor indexes (leek_document merge
// dispatching by kind, leek_summary adding deltas) through every engine.
import t from 'tap';
import { type BulkOutcome, type IndexSpec, LEEK_EVENTS_INDEX, LEEK_SUMMARY_INDEX, ensureLeekIndexes, taskMerge } from '../../src/index.js';
import { taskAt } from '../fixtures/data.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

const TASKS: IndexSpec = {
  name: 'outcome_tasks',
  fields: { state: 'keyword', exact_timestamp: 'number', events_count: 'number' },
  hot: ['state'],
  merge: taskMerge.name,
};
const PLAIN: IndexSpec = { name: 'outcome_plain', fields: { n: 'number' } };
const SIDE: IndexSpec = { name: 'outcome_side', fields: { n: 'number', of: 'keyword' } };
const SCOPE = 'outcomes';

const task = taskAt;

/** Outcomes without engine bookkeeping, for comparison. */
const brief = (outcomes: readonly BulkOutcome[] | undefined) =>
  (outcomes ?? []).map((o) => ({ id: o.id, previous: o.previous?.state ?? null, current: o.current?.state ?? null, changed: o.changed }));

t.test('bulk outcomes contract', async (t) => {
  forEachEngine(t, 'outcomes', async (t, { engine, store }) => {
    store.registerMerge(taskMerge);
    await store.indexes.ensure(TASKS);
    await store.indexes.ensure(PLAIN);
    await store.indexes.ensure(SIDE);
    await ensureLeekIndexes(store);

    await t.test('without options the result is the counts only (compatible)', async (t) => {
      const result = await store.indexes.bulkUpsert(TASKS.name, 'compat', [task('c1', 'QUEUED', 1)]);
      t.same(result, { written: 1, unchanged: 0 });
    });

    await t.test('outcomes: previous, current and changed per document, in input order', async (t) => {
      const first = await store.indexes.bulkUpsert(TASKS.name, SCOPE, [task('a', 'QUEUED', 100), task('b', 'STARTED', 101)], {
        outcomes: true,
      });
      t.same(brief(first.outcomes), [
        { id: 'a', previous: null, current: 'QUEUED', changed: true },
        { id: 'b', previous: null, current: 'STARTED', changed: true },
      ]);
      t.equal(first.written, 2);
      const second = await store.indexes.bulkUpsert(
        TASKS.name,
        SCOPE,
        [task('a', 'RECEIVED', 100.5), task('b', 'STARTED', 101), task('c', 'SUCCEEDED', 103, { retries: 2 })],
        { outcomes: true },
      );
      t.same(brief(second.outcomes), [
        { id: 'a', previous: 'QUEUED', current: 'RECEIVED', changed: true },
        { id: 'b', previous: 'STARTED', current: 'STARTED', changed: false },
        { id: 'c', previous: null, current: 'RECOVERED', changed: true },
      ]);
      t.same({ written: second.written, unchanged: second.unchanged }, { written: 2, unchanged: 1 });
      const [a, b, c] = second.outcomes ?? [];
      t.same(a?.current?.events, ['RECEIVED', 'QUEUED'], 'current is the merged document');
      t.equal(a?.current?.events_count, 2);
      t.same(a?.previous?.events, ['QUEUED'], 'previous is the document before this write');
      t.same(b?.current, b?.previous, 'unchanged: current is the stored document');
      t.same(b?.current, await store.indexes.get(TASKS.name, SCOPE, 'b'));
      t.same(c?.current, await store.indexes.get(TASKS.name, SCOPE, 'c'), 'current is what is stored');
    });

    await t.test('a repeated id: each occurrence sees the result of the one before', async (t) => {
      const result = await store.indexes.bulkUpsert(
        TASKS.name,
        SCOPE,
        [task('d', 'QUEUED', 200), task('d', 'RECEIVED', 200.5), task('d', 'RECEIVED', 200.5)],
        { outcomes: true },
      );
      t.same(brief(result.outcomes), [
        { id: 'd', previous: null, current: 'QUEUED', changed: true },
        { id: 'd', previous: 'QUEUED', current: 'RECEIVED', changed: true },
        { id: 'd', previous: 'RECEIVED', current: 'RECEIVED', changed: false },
      ]);
    });

    await t.test('outcomes with the built-in replace read the previous document too', async (t) => {
      await store.indexes.bulkUpsert(PLAIN.name, SCOPE, [{ id: 'p', n: 1 }]);
      const result = await store.indexes.bulkUpsert(
        PLAIN.name,
        SCOPE,
        [
          { id: 'p', n: 2 },
          { id: 'q', n: 3 },
        ],
        { outcomes: true },
      );
      t.same(
        (result.outcomes ?? []).map((o) => [o.id, o.previous?.n, o.current?.n, o.changed]),
        [
          ['p', 1, 2, true],
          ['q', undefined, 3, true],
        ],
      );
    });

    await t.test('also: further writes derived from the outcomes land with the documents', async (t) => {
      let seen: readonly BulkOutcome[] = [];
      const result = await store.indexes.bulkUpsert(TASKS.name, SCOPE, [task('e', 'QUEUED', 300), task('a', 'RECEIVED', 100.5)], {
        also: (outcomes) => {
          seen = outcomes;
          return [
            {
              index: SIDE.name,
              scope: SCOPE,
              docs: outcomes.filter((o) => o.changed).map((o) => ({ id: `side-${o.id}`, n: 1, of: o.id })),
            },
          ];
        },
      });
      t.same(brief(seen), [
        { id: 'e', previous: null, current: 'QUEUED', changed: true },
        { id: 'a', previous: 'RECEIVED', current: 'RECEIVED', changed: false },
      ]);
      t.notOk('outcomes' in result, 'outcomes are answered only when asked for');
      t.same(await store.indexes.get(SIDE.name, SCOPE, 'side-e'), { id: 'side-e', n: 1, of: 'e' });
      t.notOk(await store.indexes.get(SIDE.name, SCOPE, 'side-a'));
    });

    await t.test('also runs for an empty batch', async (t) => {
      await store.indexes.bulkUpsert(TASKS.name, SCOPE, [], {
        also: () => [{ index: SIDE.name, scope: SCOPE, docs: [{ id: 'lonely', n: 0 }] }],
      });
      t.ok(await store.indexes.get(SIDE.name, SCOPE, 'lonely'));
    });

    if (engine === 'sqlite') {
      await t.test('sqlite: a failing also write rolls the documents back (all or nothing)', async (t) => {
        const before = await store.indexes.count(TASKS.name, SCOPE);
        await rejectsWith(
          t,
          store.indexes.bulkUpsert(TASKS.name, SCOPE, [task('f', 'QUEUED', 400)], {
            also: () => [{ index: 'not_declared', scope: SCOPE, docs: [{ id: 'x' }] }],
          }),
          'notfound',
        );
        await t.rejects(
          store.indexes.bulkUpsert(TASKS.name, SCOPE, [task('g', 'QUEUED', 400)], {
            also: () => {
              throw new Error('derived write failed');
            },
          }),
          /derived write failed/,
        );
        await rejectsWith(
          t,
          store.indexes.bulkUpsert(TASKS.name, SCOPE, [task('h', 'QUEUED', 400)], {
            also: () => [{ index: SIDE.name, scope: 'Bad Scope', docs: [{ id: 'x' }] }],
          }),
          'invalid',
        );
        t.equal(await store.indexes.count(TASKS.name, SCOPE), before, 'nothing of those calls was written');
        t.notOk(await store.indexes.get(TASKS.name, SCOPE, 'f'));
      });
    }

    await t.test('hot columns follow every merge (a rewrite sets only the columns that changed)', async (t) => {
      const scope = 'hot-columns';
      const byState = (state: string) => store.indexes.count(TASKS.name, scope, { term: { field: 'state', value: state } });
      await store.indexes.bulkUpsert(TASKS.name, scope, [task('h1', 'QUEUED', 10), task('h2', 'QUEUED', 10)]);
      await store.indexes.bulkUpsert(TASKS.name, scope, [task('h1', 'RECEIVED', 11), task('h2', 'QUEUED', 9, { queue: 'late' })]);
      t.equal(await byState('QUEUED'), 1, 'h2 kept its state through a merge that changed other fields');
      t.equal(await byState('RECEIVED'), 1);
      await store.indexes.bulkUpsert(TASKS.name, scope, [task('h1', 'SUCCEEDED', 12), task('h2', 'RECEIVED', 11)]);
      t.same([await byState('QUEUED'), await byState('RECEIVED'), await byState('SUCCEEDED')], [0, 1, 1]);
      const sorted = await store.indexes.search(TASKS.name, scope, { sort: [{ field: 'state', order: 'asc' }] });
      t.same(
        sorted.hits.map((h) => h.id),
        ['h2', 'h1'],
        'RECEIVED sorts before SUCCEEDED',
      );
    });

    await t.test('leek_document: task and worker documents share one index, merged by kind', async (t) => {
      const result = await store.indexes.bulkUpsert(
        LEEK_EVENTS_INDEX,
        SCOPE,
        [
          task('t1', 'STARTED', 101),
          {
            id: 'w1',
            hostname: 'w1',
            kind: 'worker',
            state: 'HEARTBEAT',
            exact_timestamp: 30,
            last_heartbeat_at: 30000,
            processed: 5,
            events_count: 14,
          },
        ],
        { outcomes: true },
      );
      t.equal(result.written, 2);
      const next = await store.indexes.bulkUpsert(
        LEEK_EVENTS_INDEX,
        SCOPE,
        [
          task('t1', 'RECEIVED', 100.5, { name: 'a.b', worker: 'w9' }),
          { id: 'w1', hostname: 'w1', kind: 'worker', state: 'ONLINE', exact_timestamp: 0.5, online_at: 500, events_count: 1 },
        ],
        { outcomes: true },
      );
      const [t1, w1] = next.outcomes ?? [];
      t.equal(t1?.current?.state, 'STARTED', 'task R3c: the state stays');
      t.equal(t1?.current?.name, 'a.b');
      t.notOk(t1?.current?.worker, 'R3c never copies worker');
      t.equal(w1?.current?.state, 'HEARTBEAT', 'worker W3: the state stays');
      t.equal(w1?.current?.online_at, 500);
      t.equal(w1?.current?.events_count, 15);
      t.notOk('events' in (w1?.current ?? {}), 'the worker merge keeps no events list');
      const clash = await store.indexes.bulkUpsert(
        LEEK_EVENTS_INDEX,
        SCOPE,
        [{ id: 't1', hostname: 't1', kind: 'worker', state: 'ONLINE', exact_timestamp: 999, events_count: 1 }],
        { outcomes: true },
      );
      t.same(
        brief(clash.outcomes),
        [{ id: 't1', previous: 'STARTED', current: 'STARTED', changed: false }],
        'a worker never merges into a task',
      );
      t.equal((await store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, 't1'))?.kind, 'task');
      t.equal(await store.indexes.count(LEEK_EVENTS_INDEX, SCOPE, { term: { field: 'kind', value: 'worker' } }), 1);
    });

    await t.test('leek_summary: deltas add up; last_seen and runtime bounds keep their extremes', async (t) => {
      await store.indexes.bulkUpsert(LEEK_SUMMARY_INDEX, SCOPE, [
        { id: 'r', app_env: 'prod', name: 'a.b', tasks: 1, states: { QUEUED: 1 }, runtime_count: 0, runtime_sum: 0, last_seen: 100 },
      ]);
      await store.indexes.bulkUpsert(LEEK_SUMMARY_INDEX, SCOPE, [
        {
          id: 'r',
          queue: 'q1',
          exchange: '',
          tasks: 1,
          states: { QUEUED: -1, SUCCEEDED: 2 },
          runtime_count: 1,
          runtime_sum: 1.5,
          runtime_min: 1.5,
          runtime_max: 1.5,
          last_seen: 90,
        },
        {
          id: 'r',
          tasks: 0,
          states: { FAILED: 1, SUCCEEDED: -1 },
          runtime_count: 1,
          runtime_sum: 0.25,
          runtime_min: 0.25,
          runtime_max: 0.25,
          last_seen: 300,
        },
      ]);
      const row = await store.indexes.get(LEEK_SUMMARY_INDEX, SCOPE, 'r');
      t.match(row, {
        app_env: 'prod',
        name: 'a.b',
        queue: 'q1',
        exchange: '',
        tasks: 2,
        runtime_count: 2,
        runtime_sum: 1.75,
        runtime_min: 0.25,
        runtime_max: 1.5,
        last_seen: 300,
      });
      t.same(row?.states, { QUEUED: 0, SUCCEEDED: 1, FAILED: 1 });
      t.equal(
        await store.indexes.count(LEEK_SUMMARY_INDEX, SCOPE, { range: { field: 'states.SUCCEEDED', gte: 1 } }),
        1,
        'state counts are searchable',
      );
    });
  });
});
