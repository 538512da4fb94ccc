// /v1/search with hostile bodies (issue 8, findings 3 and 10): huge `_source` patterns, a `size` nested thousands
// of levels deep, a backtracking-heavy wildcard, and no credentials at all — each a clear 4xx, never a 500.
import t from 'tap';
import { world } from './fixtures/world.js';

const w = await world(t);
const error = (res: { statusCode: number; json(): { error?: { code?: number; reason?: string } } }) => [
  res.statusCode,
  res.json().error?.code,
];

t.test('a 50k-character _source pattern is refused with 400, its value not echoed', async (t) => {
  for (const source of ['*a'.repeat(25_000), { includes: ['x'.repeat(50_000)] }, Array.from({ length: 500 }, (_, i) => `f${i}`)]) {
    const res = await w.search({ query: { match_all: {} }, _source: source }, { query: 'size=5' });
    t.same(error(res), [400, 400002]);
    t.ok(res.body.length < 2000, `the answer stays short (${res.body.length} bytes)`);
  }
  const fine = await w.search({ query: { match_all: {} }, _source: ['state', '*_at'] }, { query: 'size=1' });
  t.equal(fine.statusCode, 200, '_source patterns still filter');
});

t.test('a size nested 5,000 levels deep is refused with 400', async (t) => {
  const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
  // As text: serializing 5,000 levels in the test itself would overflow its stack.
  const res = await w.search(`{"size":${deep}}`, { headers: { 'content-type': 'application/json' } });
  t.same(error(res), [400, 400002]);
  t.ok(res.body.length < 2000, 'the nested value is not echoed');
});

t.test('a backtracking-heavy wildcard answers at once', { timeout: 60_000 }, async (t) => {
  const res = await w.search(
    { query: { wildcard: { uuid: { value: `${'*?'.repeat(20)}!`, case_insensitive: true } } } },
    { query: 'size=5' },
  );
  t.equal(res.statusCode, 200);
  t.equal(res.json().hits.total.value, 0);
});

t.test('no credentials → 401, before anything about the body', async (t) => {
  const res = await w.search({ size: 'not a number', query: { nonsense: {} } }, { who: { headers: {} } });
  t.same(error(res), [401, 401003]);
});
