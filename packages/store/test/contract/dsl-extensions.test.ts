// Contract: the AST nodes the task monitor's query DSL needs beyond the basics — case-insensitive wildcard and prefix,
// flattened fields (`kwargs_flattened.<key>`), auto_date_histogram — on both engines.
import t from 'tap';
import type { AggregationResult, Doc, IndexSpec, Query } from '../../src/index.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

const FIELDS: IndexSpec['fields'] = { name: 'keyword', trace: 'keyword', at: 'date', kw: 'flattened', msg: 'text' };
const SPECS: IndexSpec[] = [
  { name: 'ext_hot', fields: FIELDS, hot: ['name', 'trace', 'at'] },
  { name: 'ext_cold', fields: FIELDS },
];
const SCOPE = 'app1';
const at = (time: string) => `2024-05-01T${time}.000Z`;

const DOCS: Doc[] = [
  {
    id: 'd1',
    name: 'Billing.Charge',
    at: at('10:00:00'),
    kw: { notify: true, 'meta.source': 'api', 'meta.tags.0': 'vip', n: 5 },
    trace: 'Traceback (most recent call last):\nsmtplib.SMTPServerDisconnected: Connection closed',
    msg: 'Charged the card',
  },
  { id: 'd2', name: 'billing.refund', at: at('10:00:07'), kw: { 'meta.source': 'cron' }, trace: 'ValueError: bad amount' },
  { id: 'd3', name: 'mail.send', at: at('10:00:12'), kw: {} },
  { id: 'd4', name: 'MAIL.digest', at: at('10:00:41'), kw: { notify: false, 'meta.source': 'API' }, msg: 'Digest SENT' },
];
/** Same ids, other scope: must never show up. */
const DECOYS = DOCS.map((d) => ({ ...d, name: 'billing.decoy', kw: { 'meta.source': 'api', notify: true } }));

const QUERY_CASES: Array<{ name: string; query: Query; ids: string[] }> = [
  { name: 'wildcard is case-sensitive by default', query: { wildcard: { field: 'name', value: 'billing.*' } }, ids: ['d2'] },
  {
    name: 'wildcard case_insensitive folds case on keywords',
    query: { wildcard: { field: 'name', value: 'billing.*', case_insensitive: true } },
    ids: ['d1', 'd2'],
  },
  {
    name: 'wildcard case_insensitive contains-search',
    query: { wildcard: { field: 'trace', value: '*smtpserver*', case_insensitive: true } },
    ids: ['d1'],
  },
  {
    name: 'wildcard case_insensitive with ? and an upper-case pattern',
    query: { wildcard: { field: 'name', value: 'MAIL.????', case_insensitive: true } },
    ids: ['d3'],
  },
  {
    name: 'wildcard case_insensitive keeps escaped * literal',
    query: { wildcard: { field: 'name', value: 'mail\\*', case_insensitive: true } },
    ids: [],
  },
  {
    name: 'wildcard case_insensitive false is the default',
    query: { wildcard: { field: 'name', value: 'MAIL.*', case_insensitive: false } },
    ids: ['d4'],
  },
  { name: 'prefix is case-sensitive by default', query: { prefix: { field: 'name', value: 'MAIL.' } }, ids: ['d4'] },
  {
    name: 'prefix case_insensitive',
    query: { prefix: { field: 'name', value: 'mail.', case_insensitive: true } },
    ids: ['d3', 'd4'],
  },
  {
    name: 'prefix case_insensitive treats * as a literal',
    query: { prefix: { field: 'name', value: 'mail*', case_insensitive: true } },
    ids: [],
  },
  { name: 'flattened: term on a dotted key', query: { term: { field: 'kw.meta.source', value: 'api' } }, ids: ['d1'] },
  { name: 'flattened: term on a boolean value as a string', query: { term: { field: 'kw.notify', value: 'true' } }, ids: ['d1'] },
  { name: 'flattened: term with a boolean compares its string', query: { term: { field: 'kw.notify', value: false } }, ids: ['d4'] },
  { name: 'flattened: term on a number value', query: { term: { field: 'kw.n', value: '5' } }, ids: ['d1'] },
  { name: 'flattened: term on a list element key', query: { term: { field: 'kw.meta.tags.0', value: 'vip' } }, ids: ['d1'] },
  {
    name: 'flattened: terms on a key',
    query: { terms: { field: 'kw.meta.source', values: ['api', 'cron'] } },
    ids: ['d1', 'd2'],
  },
  { name: 'flattened: exists on a key', query: { exists: { field: 'kw.notify' } }, ids: ['d1', 'd4'] },
  { name: 'flattened: unknown key matches nothing', query: { term: { field: 'kw.meta', value: 'api' } }, ids: [] },
  { name: 'flattened: the field itself matches any value', query: { term: { field: 'kw', value: 'cron' } }, ids: ['d2'] },
  { name: 'flattened: exists on the field needs a value', query: { exists: { field: 'kw' } }, ids: ['d1', 'd2', 'd4'] },
  {
    name: 'flattened: case-insensitive wildcard on a key',
    query: { wildcard: { field: 'kw.meta.source', value: 'AP*', case_insensitive: true } },
    ids: ['d1', 'd4'],
  },
  {
    name: 'flattened: must_not keeps documents without the key',
    query: { bool: { must_not: [{ term: { field: 'kw.meta.source', value: 'api' } }] } },
    ids: ['d2', 'd3', 'd4'],
  },
];

const day = (time: string) => ({ key: Date.parse(at(time)), key_as_string: at(time) });

const AGG_CASES: Array<{ name: string; query?: Query; aggs: Record<string, unknown>; expect: Record<string, unknown> }> = [
  {
    name: 'auto_date_histogram: the smallest interval giving at most `buckets` buckets, empty ones filled',
    aggs: { time: { auto_date_histogram: { field: 'at', buckets: 30 } } },
    expect: {
      time: {
        interval: '5s',
        buckets: [
          { ...day('10:00:00'), doc_count: 1 },
          { ...day('10:00:05'), doc_count: 1 },
          { ...day('10:00:10'), doc_count: 1 },
          ...['15', '20', '25', '30', '35'].map((s) => ({ ...day(`10:00:${s}`), doc_count: 0 })),
          { ...day('10:00:40'), doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'auto_date_histogram: fewer buckets pick a larger interval; sub-aggregations per bucket',
    aggs: { time: { auto_date_histogram: { field: 'at', buckets: 3 }, aggs: { last: { max: { field: 'at' } } } } },
    expect: {
      time: {
        interval: '30s',
        buckets: [
          { ...day('10:00:00'), doc_count: 3, last: { value: Date.parse(at('10:00:12')), value_as_string: at('10:00:12') } },
          { ...day('10:00:30'), doc_count: 1, last: { value: Date.parse(at('10:00:41')), value_as_string: at('10:00:41') } },
        ],
      },
    },
  },
  {
    name: 'auto_date_histogram: respects the query',
    query: { prefix: { field: 'name', value: 'mail', case_insensitive: true } },
    aggs: { time: { auto_date_histogram: { field: 'at', buckets: 30 } } },
    expect: {
      time: {
        interval: '1s',
        buckets: Array.from({ length: 30 }, (_, i) => ({
          ...day(`10:00:${String(12 + i).padStart(2, '0')}`),
          doc_count: i === 0 || i === 29 ? 1 : 0,
        })),
      },
    },
  },
  {
    name: 'auto_date_histogram over no documents',
    query: { term: { field: 'name', value: 'none' } },
    aggs: { time: { auto_date_histogram: { field: 'at' } } },
    expect: { time: { buckets: [], interval: '1s' } },
  },
  {
    name: 'terms on a flattened key',
    aggs: { sources: { terms: { field: 'kw.meta.source' } } },
    expect: {
      sources: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 0,
        buckets: [
          { key: 'API', doc_count: 1 },
          { key: 'api', doc_count: 1 },
          { key: 'cron', doc_count: 1 },
        ],
      },
    },
  },
];

t.test('DSL extensions contract', async (t) => {
  forEachEngine(t, 'dslext', async (t, { engine, store }) => {
    for (const spec of SPECS) {
      await store.indexes.ensure(spec);
      await store.indexes.bulkUpsert(spec.name, SCOPE, DOCS);
      await store.indexes.bulkUpsert(spec.name, 'app2', DECOYS);
    }
    for (const spec of SPECS) {
      t.test(`${spec.name}: queries`, async (t) => {
        for (const c of QUERY_CASES) {
          t.test(c.name, async (t) => {
            const result = await store.indexes.search(spec.name, SCOPE, { query: c.query, limit: 100 });
            t.same(result.hits.map((h) => h.id).sort(), c.ids);
            t.equal(result.total, c.ids.length);
          });
        }
      });
      t.test(`${spec.name}: aggregations`, async (t) => {
        for (const c of AGG_CASES) {
          t.test(c.name, async (t) => {
            const result = await store.indexes.search(spec.name, SCOPE, {
              ...(c.query === undefined ? {} : { query: c.query }),
              aggs: c.aggs as never,
              limit: 0,
            });
            const aggregations = (result.aggregations ?? {}) as Record<string, AggregationResult>;
            for (const [name, expected] of Object.entries(c.expect)) t.same(aggregations[name], expected, name);
          });
        }
      });
      t.test(`${spec.name}: invalid uses`, async (t) => {
        await rejectsWith(
          t,
          store.indexes.search(spec.name, SCOPE, { aggs: { a: { auto_date_histogram: { field: 'name' } } } }),
          'invalid',
          /auto_date_histogram on field "name" is not supported: it is a keyword field/,
        );
        await rejectsWith(
          t,
          store.indexes.search(spec.name, SCOPE, { aggs: { a: { auto_date_histogram: { field: 'at', buckets: 0 } } } as never }),
          'invalid',
        );
        await rejectsWith(
          t,
          store.indexes.search(spec.name, SCOPE, { query: { wildcard: { field: 'name', value: 'x', case_insensitive: 'yes' } } as never }),
          'invalid',
        );
        await rejectsWith(
          t,
          store.indexes.search(spec.name, SCOPE, { aggs: { s: { sum: { field: 'kw.n' } } } }),
          'invalid',
          /keyword field/,
        );
      });
    }
    t.test('searchRaw: Elasticsearch only, on the index of (index, scope), body keys checked', async (t) => {
      const raw = store.indexes.searchRaw?.bind(store.indexes);
      if (raw === undefined) {
        t.equal(engine, 'sqlite', 'only the Elasticsearch engine answers raw searches');
        return;
      }
      const response = await raw('ext_cold', SCOPE, {
        query: { term: { 'kw.meta.source': { value: 'api' } } },
        aggs: { t: { auto_date_histogram: { field: 'at', buckets: 3 } } },
        sort: [{ id: { order: 'asc' } }],
        from: 0,
        size: 10,
      });
      t.same(
        response.hits.hits.map((h) => h._id),
        ['d1'],
        'the decoy scope is another index',
      );
      t.match(response.hits.total, { value: 1 });
      t.match(response.aggregations?.t, { interval: '1s', buckets: [{ key: Date.parse(at('10:00:00')), doc_count: 1 }] });
      await rejectsWith(t, raw('ext_cold', SCOPE, { index: 'other' } as never), 'invalid', /search body key "index" is not accepted/);
      await rejectsWith(t, raw('ext_cold', SCOPE, { size: 10_001 }), 'invalid', /maximum of 10000/);
    });
    t.test('a flattened field cannot be hot', async (t) => {
      await rejectsWith(t, store.indexes.ensure({ name: 'ext_bad', fields: { kw: 'flattened' }, hot: ['kw'] }), 'invalid', /flattened/);
    });
  });
});
