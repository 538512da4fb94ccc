// Contract: index writes — upsert/get, merges (built-in and custom) through upsert and bulkUpsert, all-or-nothing bulk,
// deleteByQuery, dropScope, scope isolation, stats, full-text kept in sync, validation.
import t from 'tap';
import type { Doc, IndexSpec } from '../../src/index.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';
import { TEST_MERGES } from '../fixtures/merges.js';

const EVENTS: IndexSpec = {
  name: 'events',
  fields: { kind: 'keyword', n: 'number', at: 'date', text: 'text', 'meta.host': 'keyword' },
  hot: ['kind', 'at'],
};
const PLAIN: IndexSpec = { name: 'plain', fields: { kind: 'keyword', text: 'text' }, hot: ['kind'] };
const SHALLOW: IndexSpec = { name: 'shallow_docs', fields: { kind: 'keyword', a: 'number', b: 'number' }, merge: 'shallow' };
const COUNTED: IndexSpec = { name: 'counted', fields: { count: 'number', kind: 'keyword' }, hot: ['kind'], merge: 'counter' };
const VERSIONED: IndexSpec = { name: 'versioned', fields: { version: 'number', state: 'keyword' }, merge: 'max_version' };
const POISONED: IndexSpec = { name: 'poisoned', fields: { kind: 'keyword', v: 'number' }, merge: 'poison' };
const APPENDED: IndexSpec = { name: 'appended', fields: { events: 'keyword' }, merge: 'append' };

const ids = (docs: Doc[]) => docs.map((d) => d.id).sort();

t.test('index contract', async (t) => {
  forEachEngine(t, 'indexes', async (t, { store, engine }) => {
    for (const merge of TEST_MERGES) store.registerMerge(merge);
    for (const spec of [EVENTS, PLAIN, SHALLOW, COUNTED, VERSIONED, POISONED, APPENDED]) await store.indexes.ensure(spec);
    const ix = store.indexes;

    t.test('ensure is idempotent', async (t) => {
      await ix.ensure(EVENTS);
      await ix.ensure(EVENTS);
      t.equal(await ix.count('events', 'fresh'), 0);
    });

    t.test('upsert then get returns the document', async (t) => {
      const doc = {
        id: 'e1',
        kind: 'start',
        n: 1,
        at: '2024-05-01T00:00:00.000Z',
        text: 'worker online',
        meta: { host: 'h1' },
        extra: { free: ['form'] },
      };
      t.same(await ix.upsert('events', 's1', doc), doc);
      t.same(await ix.get('events', 's1', 'e1'), doc);
      t.equal(await ix.get('events', 's1', 'missing'), undefined);
    });

    t.test('without a merge, upsert replaces the whole document', async (t) => {
      await ix.upsert('plain', 's1', { id: 'p1', kind: 'a', text: 'first', old: true });
      await ix.upsert('plain', 's1', { id: 'p1', kind: 'b' });
      t.same(await ix.get('plain', 's1', 'p1'), { id: 'p1', kind: 'b' });
      t.equal(await ix.count('plain', 's1', { term: { field: 'kind', value: 'a' } }), 0, 'the old hot value is gone');
      t.equal(await ix.count('plain', 's1', { match: { field: 'text', query: 'first' } }), 0, 'the old text is gone');
    });

    t.test('shallow merge keeps stored fields the incoming document lacks', async (t) => {
      await ix.upsert('shallow_docs', 's1', { id: 'm1', kind: 'x', a: 1 });
      const merged = await ix.upsert('shallow_docs', 's1', { id: 'm1', b: 2 });
      t.same(merged, { id: 'm1', kind: 'x', a: 1, b: 2 });
      t.same(await ix.get('shallow_docs', 's1', 'm1'), { id: 'm1', kind: 'x', a: 1, b: 2 });
    });

    t.test('a custom merge runs on every upsert', async (t) => {
      for (let i = 0; i < 3; i++) await ix.upsert('counted', 's1', { id: 'c1', kind: 'k' });
      t.equal((await ix.get('counted', 's1', 'c1'))?.count, 3);
      const after = await ix.upsert('counted', 's1', { id: 'c1', kind: 'k', count: 10 });
      t.equal(after?.count, 13, 'upsert returns the merged document');
      t.equal(await ix.count('counted', 's1', { range: { field: 'count', gte: 13 } }), 1, 'merged values are searchable');
    });

    t.test('bulkUpsert merges the same id twice in one batch, in order', async (t) => {
      const result = await ix.bulkUpsert('counted', 's2', [
        { id: 'b1', kind: 'k', count: 2 },
        { id: 'b2', kind: 'k' },
        { id: 'b1', kind: 'k', count: 5 },
      ]);
      t.same(result, { written: 3, unchanged: 0 });
      t.equal((await ix.get('counted', 's2', 'b1'))?.count, 7);
      t.equal((await ix.get('counted', 's2', 'b2'))?.count, 1);
      await ix.bulkUpsert(
        'appended',
        's2',
        ['a', 'b', 'c'].map((event) => ({ id: 'x', event })),
      );
      t.same((await ix.get('appended', 's2', 'x'))?.events, ['a', 'b', 'c'], 'merges apply in batch order');
    });

    t.test('a merge that declines leaves the document and counts as unchanged', async (t) => {
      await ix.upsert('versioned', 's1', { id: 'v1', version: 5, state: 'SUCCESS' });
      const kept = await ix.upsert('versioned', 's1', { id: 'v1', version: 3, state: 'STARTED' });
      t.same(kept, { id: 'v1', version: 5, state: 'SUCCESS' }, 'upsert returns the stored document');
      const result = await ix.bulkUpsert('versioned', 's1', [
        { id: 'v1', version: 4, state: 'RECEIVED' },
        { id: 'v1', version: 6, state: 'RETRY' },
        { id: 'v2', version: 1, state: 'PENDING' },
        { id: 'v2', version: 1, state: 'DUPLICATE' },
      ]);
      t.same(result, { written: 2, unchanged: 2 });
      t.equal((await ix.get('versioned', 's1', 'v1'))?.state, 'RETRY');
      t.equal((await ix.get('versioned', 's1', 'v2'))?.state, 'PENDING');
    });

    t.test('bulkUpsert is all-or-nothing when a merge throws', async (t) => {
      await ix.upsert('poisoned', 's1', { id: 'keep', kind: 'before', v: 1 });
      const batch = [
        { id: 'keep', kind: 'after', v: 2 },
        { id: 'new1', kind: 'after', v: 1 },
        { id: 'bad', kind: 'after', v: 1, poison: true },
        { id: 'new2', kind: 'after', v: 1 },
      ];
      await rejectsWith(t, ix.bulkUpsert('poisoned', 's1', batch), 'invalid', /poisoned/);
      if (engine === 'sqlite') {
        t.same(await ix.get('poisoned', 's1', 'keep'), { id: 'keep', kind: 'before', v: 1 }, 'the stored document is untouched');
        t.equal(await ix.count('poisoned', 's1'), 1, 'no document of the batch was written');
      } else {
        // Elasticsearch bulk is not atomic: the call throws, the poisoned document is not written.
        t.equal(await ix.get('poisoned', 's1', 'bad'), undefined);
      }
      await rejectsWith(t, ix.upsert('poisoned', 's1', { id: 'bad2', poison: true }), 'invalid', /poisoned/);
      t.equal(await ix.get('poisoned', 's1', 'bad2'), undefined);
    });

    t.test('bulkUpsert rejects an invalid document before writing anything', async (t) => {
      await rejectsWith(t, ix.bulkUpsert('plain', 'sx', [{ id: 'ok1', kind: 'a' }, { id: '' } as Doc]), 'invalid', /id/);
      t.equal(await ix.count('plain', 'sx'), 0);
    });

    t.test('scopes are isolated', async (t) => {
      await ix.bulkUpsert('events', 'scope-a', [
        { id: 'same', kind: 'secret', n: 1, text: 'only in a' },
        { id: 'a-only', kind: 'secret', n: 2 },
      ]);
      await ix.upsert('events', 'scope-b', { id: 'same', kind: 'public', n: 3, text: 'only in b' });
      t.equal((await ix.get('events', 'scope-b', 'same'))?.kind, 'public');
      t.equal(await ix.get('events', 'scope-b', 'a-only'), undefined);
      const b = await ix.search('events', 'scope-b', { aggs: { kinds: { terms: { field: 'kind' } }, n: { sum: { field: 'n' } } } });
      t.same(ids(b.hits), ['same']);
      t.same(b.aggregations?.kinds, { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'public', doc_count: 1 }] });
      t.same(b.aggregations?.n, { value: 3 });
      t.equal(await ix.count('events', 'scope-b', { match: { field: 'text', query: 'only' } }), 1);
      t.equal(await ix.count('events', 'scope-b', { term: { field: 'kind', value: 'secret' } }), 0);
      t.equal(await ix.count('events', 'scope-c'), 0, 'a scope never written is empty');
    });

    t.test('deleteByQuery deletes the matches of one scope only', async (t) => {
      const docs = Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, kind: i % 2 === 0 ? 'even' : 'odd', n: i, text: `number ${i}` }));
      await ix.bulkUpsert('events', 'del', docs);
      await ix.bulkUpsert('events', 'del-other', docs);
      t.equal(await ix.deleteByQuery('events', 'del', { term: { field: 'kind', value: 'even' } }), 5);
      t.same(ids((await ix.search('events', 'del', { limit: 100 })).hits), ['d1', 'd3', 'd5', 'd7', 'd9']);
      t.equal(await ix.count('events', 'del-other'), 10, 'the other scope keeps its documents');
      t.equal(await ix.count('events', 'del', { match: { field: 'text', query: 'number' } }), 5, 'full text forgets deleted documents');
      t.equal(await ix.deleteByQuery('events', 'del', { range: { field: 'n', gte: 7 } }), 2);
      t.equal(await ix.deleteByQuery('events', 'del'), 3, 'no query deletes the rest');
      t.equal(await ix.count('events', 'del'), 0);
      t.equal(await ix.deleteByQuery('events', 'never-written', { match_all: {} }), 0);
    });

    t.test('dropScope drops one scope and reports how many documents it had', async (t) => {
      await ix.bulkUpsert('events', 'drop-me', [{ id: '1' }, { id: '2' }, { id: '3' }]);
      await ix.bulkUpsert('events', 'keep-me', [{ id: '1' }]);
      t.equal(await ix.dropScope('events', 'drop-me'), 3);
      t.equal(await ix.count('events', 'drop-me'), 0);
      t.equal(await ix.get('events', 'drop-me', '1'), undefined);
      t.equal(await ix.count('events', 'keep-me'), 1);
      t.equal(await ix.dropScope('events', 'drop-me'), 0, 'dropping an empty scope is fine');
      await ix.upsert('events', 'drop-me', { id: '4', kind: 'again' });
      t.equal(await ix.count('events', 'drop-me'), 1, 'a dropped scope can be written again');
    });

    t.test('the unscoped scope is a scope like the others', async (t) => {
      await ix.upsert('events', '', { id: 'u1', kind: 'global' });
      t.equal((await ix.get('events', '', 'u1'))?.kind, 'global');
      t.equal(await ix.count('events', 'scope-a', { term: { field: 'kind', value: 'global' } }), 0);
    });

    t.test('stats counts documents and bytes of one scope', async (t) => {
      await ix.bulkUpsert(
        'plain',
        'stats',
        Array.from({ length: 4 }, (_, i) => ({ id: `s${i}`, kind: 'k', text: 'x'.repeat(100) })),
      );
      const stats = await ix.stats('plain', 'stats');
      t.equal(stats.count, 4);
      t.ok(stats.bytes > 0, 'bytes is positive');
      t.same(await ix.stats('plain', 'empty-scope'), { count: 0, bytes: 0 });
    });

    t.test('full text follows updates', async (t) => {
      await ix.upsert('plain', 'fts', { id: 'f1', kind: 'a', text: 'the quick brown fox' });
      t.equal(await ix.count('plain', 'fts', { match: { field: 'text', query: 'quick' } }), 1);
      await ix.upsert('plain', 'fts', { id: 'f1', kind: 'a', text: 'a lazy dog' });
      t.equal(await ix.count('plain', 'fts', { match: { field: 'text', query: 'quick' } }), 0);
      t.equal(await ix.count('plain', 'fts', { match: { field: 'text', query: 'lazy dog', operator: 'and' } }), 1);
    });

    t.test('writes and reads reject bad indexes, scopes and ids', async (t) => {
      await rejectsWith(t, ix.upsert('undeclared', 's1', { id: 'x' }), 'notfound', /undeclared/);
      await rejectsWith(t, ix.search('undeclared', 's1', {}), 'notfound', /ensure/);
      await rejectsWith(t, ix.upsert('events', 'Bad Scope', { id: 'x' }), 'invalid', /Bad Scope/);
      await rejectsWith(t, ix.count('events', '../etc'), 'invalid', /scope/);
      await rejectsWith(t, ix.upsert('events', 's1', { id: 42 } as unknown as Doc), 'invalid', /id/);
      await rejectsWith(t, ix.ensure({ name: 'idx; DROP', fields: {} }), 'invalid', /idx; DROP/);
      await rejectsWith(t, ix.ensure({ name: 'bad_field', fields: { 'a"b': 'keyword' } }), 'invalid', /a"b/);
      await rejectsWith(t, ix.ensure({ name: 'bad_hot', fields: { a: 'keyword' }, hot: ['b'] }), 'invalid', /"b"/);
    });

    t.test('an index whose merge is not registered cannot be written', async (t) => {
      await ix.ensure({ name: 'orphan', fields: { a: 'keyword' }, merge: 'not_registered' });
      await rejectsWith(t, ix.upsert('orphan', 's1', { id: 'x' }), 'invalid', /not_registered/);
    });
  });
});
