// Wildcard and prefix matching in linear time, and the per-search time budget on sqlite (issue 8, finding 3).
import t from 'tap';
import { SqliteStore } from '../../src/index.js';
import { wildcardMatch } from '../../src/sqlite/functions.js';

const SPEC = { name: 'budget_docs', fields: { uuid: 'keyword', message: 'text' } } as const;

t.test('wildcard matching keeps Elasticsearch semantics: * any run, ? one code point, \\ escapes, case folding', async (t) => {
  t.ok(wildcardMatch('billing.charge', 'bill*'));
  t.ok(wildcardMatch('billing.charge', '*.charge'));
  t.ok(wildcardMatch('billing.charge', 'b?lling*ge'));
  t.notOk(wildcardMatch('billing.charge', 'b?lling'));
  t.ok(wildcardMatch('a*b', 'a\\*b'));
  t.notOk(wildcardMatch('axb', 'a\\*b'));
  t.ok(wildcardMatch('a?b', 'a\\?b'));
  t.ok(wildcardMatch('😀x', '?x'), '? is one code point, not one UTF-16 unit');
  t.ok(wildcardMatch('ÉCOLE', 'éc*', true));
  t.notOk(wildcardMatch('ÉCOLE', 'éc*'));
  t.ok(wildcardMatch('', '*'));
  t.notOk(wildcardMatch('', '?'));
  t.ok(wildcardMatch('aaa', '*a*a*a*'));
  t.notOk(wildcardMatch('aa', '*a*a*a*'));
});

t.test('a backtracking-heavy wildcard on uuids answers at once and correctly', { timeout: 30_000 }, async (t) => {
  const store = SqliteStore.open({ file: ':memory:' });
  t.teardown(() => store.close());
  await store.indexes.ensure(SPEC);
  const docs = Array.from({ length: 50 }, (_, i) => ({
    id: `d${i}`,
    uuid: `${i}f3c1e2a-0b6d-4c1e-9a7b-2f1d3c4b5a69`,
    message: 'word '.repeat(20),
  }));
  await store.indexes.bulkUpsert(SPEC.name, 'scope', docs);
  // On the regex implementation this pattern took ~2.5 s per uuid (exponential in the number of `*?` pairs).
  const value = `${'*?'.repeat(16)}!`;
  for (const case_insensitive of [true, false]) {
    const result = await store.indexes.search(SPEC.name, 'scope', { query: { wildcard: { field: 'uuid', value, case_insensitive } } });
    t.equal(result.total, 0, `no uuid ends with ! (case_insensitive ${case_insensitive})`);
  }
  const onText = await store.indexes.search(SPEC.name, 'scope', { query: { wildcard: { field: 'message', value } } });
  t.equal(onText.total, 0);
  const hit = await store.indexes.search(SPEC.name, 'scope', {
    query: { wildcard: { field: 'uuid', value: '*?*?*?*?*69', case_insensitive: true } },
  });
  t.equal(hit.total, 50);
});

t.test('a search past its time budget is stopped with a clear error and the store keeps answering', async (t) => {
  const store = SqliteStore.open({ file: ':memory:', searchBudgetMs: 20 });
  t.teardown(() => store.close());
  await store.indexes.ensure(SPEC);
  const docs = Array.from({ length: 20_000 }, (_, i) => ({ id: `d${i}`, uuid: `u${i}-${'x'.repeat(200)}`, message: `m${i}` }));
  await store.indexes.bulkUpsert(SPEC.name, 'scope', docs);
  // Each row costs a few microseconds of matching on a 200-character value: far past 20 ms for 20k rows, repeated.
  const heavy = { wildcard: { field: 'uuid', value: `${'*x'.repeat(60)}*y`, case_insensitive: true } } as const;
  await t.rejects(store.indexes.search(SPEC.name, 'scope', { query: heavy }), { kind: 'invalid', message: /budget/ });
  const after = await store.indexes.search(SPEC.name, 'scope', { query: { term: { field: 'id', value: 'd7' } } });
  t.equal(after.total, 1, 'the next search on the same connection works');
});
