// Contract: every query node, on hot columns and JSON paths, arrays and nested fields; sort, paging, totals; bad fields.
import t from 'tap';
import type { Query, SearchRequest } from '../../src/index.js';
import { DOCS, SCOPE, SPECS } from '../fixtures/data.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

/** The same ids in another scope: any leak across scopes shows up as extra hits. */
const DECOYS = DOCS.map((d) => ({ ...d, state: 'SUCCESS', tags: ['math', 'fast'], worker: 'w1', message: 'decoy numbers report' }));

const QUERY_CASES: Array<{ name: string; query: Query | undefined; ids: string[] }> = [
  { name: 'no query matches every document of the scope', query: undefined, ids: ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08'] },
  { name: 'match_all', query: { match_all: {} }, ids: ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08'] },
  { name: 'term on a keyword', query: { term: { field: 'state', value: 'SUCCESS' } }, ids: ['t01', 't02', 't07'] },
  { name: 'term on a number', query: { term: { field: 'runtime', value: 1.5 } }, ids: ['t02'] },
  { name: 'term on a boolean', query: { term: { field: 'ok', value: false } }, ids: ['t03', 't06', 't08'] },
  { name: 'term on a nested field', query: { term: { field: 'meta.host', value: 'alpha' } }, ids: ['t01', 't03', 't08'] },
  { name: 'term on an array matches any element', query: { term: { field: 'tags', value: 'math' } }, ids: ['t01', 't02', 't03', 't08'] },
  { name: 'term on a date (ISO string)', query: { term: { field: 'received', value: '2024-03-01T10:00:00.000Z' } }, ids: ['t01'] },
  {
    name: 'term on a date stored as epoch milliseconds',
    query: { term: { field: 'received', value: Date.UTC(2024, 2, 3, 12) } },
    ids: ['t05'],
  },
  { name: 'term on id', query: { term: { field: 'id', value: 't04' } }, ids: ['t04'] },
  { name: 'term on a single text word', query: { term: { field: 'message', value: 'division' } }, ids: ['t06'] },
  { name: 'terms on a keyword', query: { terms: { field: 'state', values: ['FAILURE', 'PENDING'] } }, ids: ['t03', 't05', 't06'] },
  { name: 'terms on an array', query: { terms: { field: 'tags', values: ['slow', 'io'] } }, ids: ['t03', 't04', 't07'] },
  { name: 'terms on numbers', query: { terms: { field: 'retries', values: [2, 3] } }, ids: ['t03', 't06'] },
  { name: 'terms with no values matches nothing', query: { terms: { field: 'state', values: [] } }, ids: [] },
  { name: 'range gte/lt on a number', query: { range: { field: 'runtime', gte: 1, lt: 3 } }, ids: ['t02', 't07'] },
  { name: 'range gt on a number', query: { range: { field: 'runtime', gt: 3 } }, ids: ['t04'] },
  { name: 'range lte includes the bound', query: { range: { field: 'runtime', lte: 0.25 } }, ids: ['t06', 't08'] },
  {
    name: 'range on dates mixing ISO strings and epoch ms',
    query: { range: { field: 'received', gte: '2024-03-02', lt: '2024-03-05' } },
    ids: ['t03', 't04', 't05'],
  },
  { name: 'range with an epoch-ms bound', query: { range: { field: 'received', lt: Date.UTC(2024, 2, 1) } }, ids: ['t08'] },
  {
    name: 'range with date math rounding (lte ||/d is end of day)',
    query: { range: { field: 'received', lte: '2024-03-01||/d' } },
    ids: ['t01', 't02', 't08'],
  },
  {
    name: 'range with now-relative date math',
    query: { range: { field: 'received', lt: 'now-1d' } },
    ids: ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08'],
  },
  { name: 'range on a keyword compares strings', query: { range: { field: 'name', gte: 'reports', lt: 'tasks' } }, ids: ['t04', 't05'] },
  { name: 'range on a nested number', query: { range: { field: 'meta.priority', gte: 3 } }, ids: ['t03', 't06'] },
  { name: 'prefix on a keyword', query: { prefix: { field: 'name', value: 'tasks.' } }, ids: ['t01', 't02', 't03', 't06', 't08'] },
  { name: 'prefix on a nested keyword', query: { prefix: { field: 'meta.queue', value: 'de' } }, ids: ['t01', 't02', 't07', 't08'] },
  { name: 'prefix on an array', query: { prefix: { field: 'tags', value: 'sl' } }, ids: ['t03'] },
  { name: 'prefix on a text field matches word starts', query: { prefix: { field: 'message', value: 'multipl' } }, ids: ['t03'] },
  { name: 'wildcard * on a keyword', query: { wildcard: { field: 'name', value: '*.send' } }, ids: ['t05', 't07'] },
  { name: 'wildcard ? on a keyword', query: { wildcard: { field: 'name', value: 'tasks.?dd' } }, ids: ['t01', 't02', 't08'] },
  { name: 'wildcard on an array', query: { wildcard: { field: 'tags', value: 'f*t' } }, ids: ['t01', 't07'] },
  { name: 'wildcard on a text field matches words', query: { wildcard: { field: 'message', value: 'over*' } }, ids: ['t03'] },
  { name: 'exists on a number', query: { exists: { field: 'runtime' } }, ids: ['t01', 't02', 't03', 't04', 't06', 't07', 't08'] },
  { name: 'exists is false for an empty array', query: { exists: { field: 'tags' } }, ids: ['t01', 't02', 't03', 't04', 't07', 't08'] },
  { name: 'exists on a nested field', query: { exists: { field: 'meta.host' } }, ids: ['t01', 't02', 't03', 't04', 't06', 't07', 't08'] },
  { name: 'exists on an optional date', query: { exists: { field: 'succeeded' } }, ids: ['t01', 't02', 't07'] },
  { name: 'match one word', query: { match: { field: 'message', query: 'numbers' } }, ids: ['t01', 't02'] },
  { name: 'match words ANDed', query: { match: { field: 'message', query: 'Added retry', operator: 'and' } }, ids: ['t02'] },
  { name: 'match words ORed (default)', query: { match: { field: 'message', query: 'overflow zero' } }, ids: ['t03', 't06'] },
  { name: 'match is case-insensitive', query: { match: { field: 'message', query: 'MONTHLY' } }, ids: ['t04'] },
  {
    name: 'match without a field searches all text fields',
    query: { match: { query: 'welcome 99', operator: 'or' } },
    ids: ['t03', 't07'],
  },
  { name: 'match on a keyword is exact', query: { match: { field: 'name', query: 'tasks.add' } }, ids: ['t01', 't02', 't08'] },
  { name: 'match with no words matches nothing', query: { match: { field: 'message', query: '  ' } }, ids: [] },
  {
    name: 'bool must + must_not',
    query: { bool: { must: [{ term: { field: 'state', value: 'SUCCESS' } }], must_not: [{ term: { field: 'tags', value: 'fast' } }] } },
    ids: ['t02'],
  },
  {
    name: 'bool should alone needs one match',
    query: { bool: { should: [{ term: { field: 'state', value: 'PENDING' } }, { term: { field: 'worker', value: 'w3' } }] } },
    ids: ['t04', 't05', 't07'],
  },
  {
    name: 'bool should with minimum_should_match 2',
    query: {
      bool: {
        should: [
          { term: { field: 'tags', value: 'math' } },
          { term: { field: 'meta.host', value: 'alpha' } },
          { term: { field: 'ok', value: false } },
        ],
        minimum_should_match: 2,
      },
    },
    ids: ['t01', 't03', 't08'],
  },
  {
    name: 'bool should is optional next to filter',
    query: { bool: { filter: [{ term: { field: 'state', value: 'FAILURE' } }], should: [{ term: { field: 'worker', value: 'w1' } }] } },
    ids: ['t03', 't06'],
  },
  { name: 'bool must_not exists finds missing fields', query: { bool: { must_not: [{ exists: { field: 'worker' } }] } }, ids: ['t05'] },
  {
    name: 'bool must_not keeps documents without the field',
    query: { bool: { must_not: [{ term: { field: 'meta.host', value: 'alpha' } }] } },
    ids: ['t02', 't04', 't05', 't06', 't07'],
  },
  {
    name: 'nested bool',
    query: {
      bool: {
        must: [{ bool: { should: [{ prefix: { field: 'name', value: 'reports' } }, { term: { field: 'state', value: 'SUCCESS' } }] } }],
        must_not: [{ term: { field: 'worker', value: 'w3' } }],
      },
    },
    ids: ['t01', 't02', 't05'],
  },
  { name: 'empty bool matches everything', query: { bool: {} }, ids: ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08'] },
];

const SORT_CASES: Array<{ name: string; request: SearchRequest; ids: string[]; total: number }> = [
  {
    name: 'sort by number asc, missing last',
    request: { sort: [{ field: 'runtime', order: 'asc' }] },
    ids: ['t08', 't06', 't01', 't02', 't07', 't03', 't04', 't05'],
    total: 8,
  },
  {
    name: 'sort by number desc, missing first',
    request: { sort: [{ field: 'runtime', order: 'desc', missing: '_first' }] },
    ids: ['t05', 't04', 't03', 't07', 't02', 't01', 't06', 't08'],
    total: 8,
  },
  {
    name: 'sort by date desc across ISO and epoch values',
    request: { sort: [{ field: 'received', order: 'desc' }] },
    ids: ['t07', 't06', 't05', 't04', 't03', 't02', 't01', 't08'],
    total: 8,
  },
  {
    name: 'sort by two keys',
    request: {
      sort: [
        { field: 'name', order: 'asc' },
        { field: 'runtime', order: 'desc' },
      ],
    },
    ids: ['t07', 't04', 't05', 't02', 't01', 't08', 't06', 't03'],
    total: 8,
  },
  {
    name: 'sort by an array uses its smallest value ascending, ties by id',
    request: { sort: [{ field: 'tags', order: 'asc' }] },
    ids: ['t01', 't07', 't04', 't02', 't03', 't08', 't05', 't06'],
    total: 8,
  },
  {
    name: 'sort by a nested field',
    request: {
      sort: [
        { field: 'meta.priority', order: 'desc' },
        { field: 'id', order: 'desc' },
      ],
    },
    ids: ['t03', 't06', 't02', 't08', 't07', 't04', 't01', 't05'],
    total: 8,
  },
  {
    name: 'page: offset 2, limit 3 of a sort',
    request: { sort: [{ field: 'runtime', order: 'asc' }], offset: 2, limit: 3 },
    ids: ['t01', 't02', 't07'],
    total: 8,
  },
  {
    name: 'page of a query keeps the query total',
    request: { query: { term: { field: 'state', value: 'SUCCESS' } }, sort: [{ field: 'id', order: 'desc' }], limit: 2 },
    ids: ['t07', 't02'],
    total: 3,
  },
  { name: 'limit 0 counts without hits', request: { limit: 0 }, ids: [], total: 8 },
  { name: 'offset past the end', request: { offset: 20, limit: 5 }, ids: [], total: 8 },
  {
    name: 'default order is by id, default limit 10',
    request: {},
    ids: ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08'],
    total: 8,
  },
];

const INVALID_CASES: Array<{ name: string; request: SearchRequest; kind: string; message: RegExp }> = [
  { name: 'undeclared field', request: { query: { term: { field: 'nope', value: 1 } } }, kind: 'invalid', message: /"nope"/ },
  {
    name: 'SQL in a field name',
    request: { query: { term: { field: 'state; DROP TABLE idx_tasks_hot', value: 1 } } },
    kind: 'invalid',
    message: /state; DROP TABLE/,
  },
  {
    name: 'quote in a field name',
    request: { query: { exists: { field: `state") OR 1=1 --` } } },
    kind: 'invalid',
    message: /state\\"\) OR 1=1/,
  },
  { name: 'empty path segment', request: { query: { exists: { field: 'meta..host' } } }, kind: 'invalid', message: /meta\.\.host/ },
  {
    name: 'undeclared field deep in bool',
    request: { query: { bool: { must: [{ bool: { should: [{ prefix: { field: 'meta.nope', value: 'x' } }] } }] } } },
    kind: 'invalid',
    message: /meta\.nope/,
  },
  { name: 'range on a text field', request: { query: { range: { field: 'message', gte: 'a' } } }, kind: 'invalid', message: /message/ },
  {
    name: 'unknown query clause',
    request: { query: { regexp: { field: 'name', value: '.*' } } as unknown as Query },
    kind: 'unsupported',
    message: /regexp/,
  },
  {
    name: 'term value of the wrong type',
    request: { query: { term: { field: 'runtime', value: 'fast' } } },
    kind: 'invalid',
    message: /runtime/,
  },
  { name: 'sort on an undeclared field', request: { sort: [{ field: 'secret', order: 'asc' }] }, kind: 'invalid', message: /secret/ },
  { name: 'offset + limit above the result window', request: { offset: 9995, limit: 10 }, kind: 'invalid', message: /10000/ },
];

t.test('query contract', async (t) => {
  forEachEngine(t, 'query', async (t, { store }) => {
    for (const spec of SPECS) {
      await store.indexes.ensure(spec);
      await store.indexes.bulkUpsert(spec.name, SCOPE, DOCS);
      await store.indexes.bulkUpsert(spec.name, 'app2', DECOYS);
    }
    for (const spec of SPECS) {
      t.test(`${spec.name}: query nodes`, async (t) => {
        for (const c of QUERY_CASES) {
          t.test(c.name, async (t) => {
            const result = await store.indexes.search(spec.name, SCOPE, {
              ...(c.query === undefined ? {} : { query: c.query }),
              limit: 100,
            });
            t.same(result.hits.map((h) => h.id).sort(), c.ids, 'hits');
            t.equal(result.total, c.ids.length, 'total');
            t.equal(await store.indexes.count(spec.name, SCOPE, c.query), c.ids.length, 'count');
          });
        }
      });
      t.test(`${spec.name}: sort and paging`, async (t) => {
        for (const c of SORT_CASES) {
          t.test(c.name, async (t) => {
            const result = await store.indexes.search(spec.name, SCOPE, c.request);
            t.same(
              result.hits.map((h) => h.id),
              c.ids,
            );
            t.equal(result.total, c.total);
          });
        }
      });
      t.test(`${spec.name}: invalid requests`, async (t) => {
        for (const c of INVALID_CASES) {
          t.test(c.name, async (t) => rejectsWith(t, store.indexes.search(spec.name, SCOPE, c.request), c.kind, c.message));
        }
      });
    }
    t.test('hits are the stored documents', async (t) => {
      const result = await store.indexes.search('tasks_cold', SCOPE, { query: { term: { field: 'id', value: 't03' } } });
      t.same(result.hits, [DOCS[2]]);
    });
  });
});
