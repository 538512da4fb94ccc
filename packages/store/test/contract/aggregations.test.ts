// Contract: every aggregation type with exact numbers, in Elasticsearch response shape, on hot columns and JSON paths.
import t from 'tap';
import type { Aggregation, AggregationResult, Query } from '../../src/index.js';
import { DOCS, SCOPE, SPECS } from '../fixtures/data.js';
import { forEachEngine, rejectsWith } from '../fixtures/engines.js';

const day = (date: string) => ({ key: Date.parse(`${date}T00:00:00.000Z`), key_as_string: `${date}T00:00:00.000Z` });
const at = (iso: string) => ({ key: Date.parse(iso), key_as_string: iso });
const terms = (buckets: unknown[], sumOther = 0) => ({ doc_count_error_upper_bound: 0, sum_other_doc_count: sumOther, buckets });

interface AggCase {
  name: string;
  query?: Query;
  aggs: Record<string, Aggregation>;
  expect: Record<string, unknown>;
}

const AGG_CASES: AggCase[] = [
  {
    name: 'terms: count desc, ties by key asc',
    aggs: { states: { terms: { field: 'state' } } },
    expect: {
      states: terms([
        { key: 'SUCCESS', doc_count: 3 },
        { key: 'FAILURE', doc_count: 2 },
        { key: 'PENDING', doc_count: 1 },
        { key: 'REVOKED', doc_count: 1 },
        { key: 'STARTED', doc_count: 1 },
      ]),
    },
  },
  {
    name: 'terms: size cuts and sum_other_doc_count counts the rest',
    aggs: { states: { terms: { field: 'state', size: 2 } } },
    expect: {
      states: terms(
        [
          { key: 'SUCCESS', doc_count: 3 },
          { key: 'FAILURE', doc_count: 2 },
        ],
        3,
      ),
    },
  },
  {
    name: 'terms: each array element is a bucket',
    aggs: { tags: { terms: { field: 'tags' } } },
    expect: {
      tags: terms([
        { key: 'math', doc_count: 4 },
        { key: 'fast', doc_count: 2 },
        { key: 'io', doc_count: 2 },
        { key: 'slow', doc_count: 1 },
      ]),
    },
  },
  {
    name: 'terms: missing puts documents without the field in a bucket',
    aggs: { workers: { terms: { field: 'worker', missing: 'none' } } },
    expect: {
      workers: terms([
        { key: 'w1', doc_count: 3 },
        { key: 'w2', doc_count: 2 },
        { key: 'w3', doc_count: 2 },
        { key: 'none', doc_count: 1 },
      ]),
    },
  },
  {
    name: 'terms: order by _key desc',
    aggs: { names: { terms: { field: 'name', order: { _key: 'desc' } } } },
    expect: {
      names: terms([
        { key: 'tasks.mul', doc_count: 1 },
        { key: 'tasks.div', doc_count: 1 },
        { key: 'tasks.add', doc_count: 3 },
        { key: 'reports.send', doc_count: 1 },
        { key: 'reports.build', doc_count: 1 },
        { key: 'mail.send', doc_count: 1 },
      ]),
    },
  },
  {
    name: 'terms: order by _count asc',
    aggs: { names: { terms: { field: 'name', order: { _count: 'asc' }, size: 3 } } },
    expect: {
      names: terms(
        [
          { key: 'mail.send', doc_count: 1 },
          { key: 'reports.build', doc_count: 1 },
          { key: 'reports.send', doc_count: 1 },
        ],
        5,
      ),
    },
  },
  {
    name: 'terms: min_doc_count drops small buckets',
    aggs: { names: { terms: { field: 'name', min_doc_count: 2 } } },
    expect: { names: { buckets: [{ key: 'tasks.add', doc_count: 3 }] } },
  },
  {
    name: 'terms: min_doc_count 0 adds the scope terms the query excludes',
    query: { term: { field: 'state', value: 'FAILURE' } },
    aggs: { workers: { terms: { field: 'worker', min_doc_count: 0 } } },
    expect: {
      workers: terms([
        { key: 'w1', doc_count: 1 },
        { key: 'w2', doc_count: 1 },
        { key: 'w3', doc_count: 0 },
      ]),
    },
  },
  {
    name: 'terms: order by a sub-aggregation metric',
    query: { exists: { field: 'runtime' } },
    aggs: { names: { terms: { field: 'name', order: { slowest: 'desc' } }, aggs: { slowest: { max: { field: 'runtime' } } } } },
    expect: {
      names: terms([
        { key: 'reports.build', doc_count: 1, slowest: { value: 12 } },
        { key: 'tasks.mul', doc_count: 1, slowest: { value: 3 } },
        { key: 'mail.send', doc_count: 1, slowest: { value: 2.25 } },
        { key: 'tasks.add', doc_count: 3, slowest: { value: 1.5 } },
        { key: 'tasks.div', doc_count: 1, slowest: { value: 0.25 } },
      ]),
    },
  },
  {
    name: 'terms: order by a stats property',
    query: { exists: { field: 'runtime' } },
    aggs: { workers: { terms: { field: 'worker', order: { 'rt.avg': 'asc' } }, aggs: { rt: { stats: { field: 'runtime' } } } } },
    expect: {
      workers: terms([
        { key: 'w2', doc_count: 2, rt: { count: 2, min: 0.25, max: 1.5, avg: 0.875, sum: 1.75 } },
        { key: 'w1', doc_count: 3, rt: { count: 3, min: 0, max: 3, avg: 3.5 / 3, sum: 3.5 } },
        { key: 'w3', doc_count: 2, rt: { count: 2, min: 2.25, max: 12, avg: 7.125, sum: 14.25 } },
      ]),
    },
  },
  {
    name: 'terms: nested terms and metrics',
    query: { terms: { field: 'state', values: ['SUCCESS', 'FAILURE'] } },
    aggs: {
      states: {
        terms: { field: 'state' },
        aggs: { workers: { terms: { field: 'worker' }, aggs: { total: { sum: { field: 'runtime' } } } } },
      },
    },
    expect: {
      states: terms([
        {
          key: 'SUCCESS',
          doc_count: 3,
          workers: terms([
            { key: 'w1', doc_count: 1, total: { value: 0.5 } },
            { key: 'w2', doc_count: 1, total: { value: 1.5 } },
            { key: 'w3', doc_count: 1, total: { value: 2.25 } },
          ]),
        },
        {
          key: 'FAILURE',
          doc_count: 2,
          workers: terms([
            { key: 'w1', doc_count: 1, total: { value: 3 } },
            { key: 'w2', doc_count: 1, total: { value: 0.25 } },
          ]),
        },
      ]),
    },
  },
  {
    name: 'terms: booleans have key 1/0 and key_as_string',
    aggs: { ok: { terms: { field: 'ok' } } },
    expect: {
      ok: terms([
        { key: 1, key_as_string: 'true', doc_count: 4 },
        { key: 0, key_as_string: 'false', doc_count: 3 },
      ]),
    },
  },
  {
    name: 'terms: numbers have numeric keys',
    aggs: { retries: { terms: { field: 'retries' } } },
    expect: {
      retries: terms([
        { key: 0, doc_count: 4 },
        { key: 1, doc_count: 1 },
        { key: 2, doc_count: 1 },
        { key: 3, doc_count: 1 },
      ]),
    },
  },
  {
    name: 'terms: nested field',
    aggs: { queues: { terms: { field: 'meta.queue' } } },
    expect: {
      queues: terms([
        { key: 'default', doc_count: 4 },
        { key: 'cpu', doc_count: 2 },
        { key: 'io', doc_count: 2 },
      ]),
    },
  },
  {
    name: 'date_histogram: calendar day fills empty days',
    query: { range: { field: 'received', gte: '2024-03-01', lt: '2024-03-06' } },
    aggs: { per_day: { date_histogram: { field: 'received', calendar_interval: 'day' } } },
    expect: {
      per_day: {
        buckets: [
          { ...day('2024-03-01'), doc_count: 2 },
          { ...day('2024-03-02'), doc_count: 1 },
          { ...day('2024-03-03'), doc_count: 2 },
          { ...day('2024-03-04'), doc_count: 0 },
          { ...day('2024-03-05'), doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'date_histogram: calendar month',
    aggs: { per_month: { date_histogram: { field: 'received', calendar_interval: '1M' } } },
    expect: {
      per_month: {
        buckets: [
          { ...day('2024-02-01'), doc_count: 1 },
          { ...day('2024-03-01'), doc_count: 6 },
          { ...day('2024-04-01'), doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'date_histogram: weeks start on Monday',
    aggs: { per_week: { date_histogram: { field: 'received', calendar_interval: 'week' } } },
    expect: {
      per_week: {
        buckets: [
          { ...day('2024-02-26'), doc_count: 6 },
          { ...day('2024-03-04'), doc_count: 1 },
          { ...day('2024-03-11'), doc_count: 0 },
          { ...day('2024-03-18'), doc_count: 0 },
          { ...day('2024-03-25'), doc_count: 0 },
          { ...day('2024-04-01'), doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'date_histogram: fixed_interval with min_doc_count 1',
    query: { range: { field: 'received', gte: '2024-03-01', lt: '2024-03-04' } },
    aggs: { h12: { date_histogram: { field: 'received', fixed_interval: '12h', min_doc_count: 1 } } },
    expect: {
      h12: {
        buckets: [
          { ...at('2024-03-01T00:00:00.000Z'), doc_count: 2 },
          { ...at('2024-03-02T00:00:00.000Z'), doc_count: 1 },
          { ...at('2024-03-03T00:00:00.000Z'), doc_count: 1 },
          { ...at('2024-03-03T12:00:00.000Z'), doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'date_histogram: extended_bounds add empty buckets at both ends',
    query: { term: { field: 'state', value: 'FAILURE' } },
    aggs: {
      per_day: {
        date_histogram: { field: 'received', calendar_interval: 'day', extended_bounds: { min: '2024-03-01', max: '2024-03-06' } },
      },
    },
    expect: {
      per_day: {
        buckets: [
          { ...day('2024-03-01'), doc_count: 0 },
          { ...day('2024-03-02'), doc_count: 1 },
          { ...day('2024-03-03'), doc_count: 0 },
          { ...day('2024-03-04'), doc_count: 0 },
          { ...day('2024-03-05'), doc_count: 1 },
          { ...day('2024-03-06'), doc_count: 0 },
        ],
      },
    },
  },
  {
    name: 'date_histogram: sub-aggregations per bucket',
    query: { range: { field: 'received', gte: '2024-03-01', lt: '2024-03-03' } },
    aggs: { per_day: { date_histogram: { field: 'received', calendar_interval: 'day' }, aggs: { states: { terms: { field: 'state' } } } } },
    expect: {
      per_day: {
        buckets: [
          { ...day('2024-03-01'), doc_count: 2, states: terms([{ key: 'SUCCESS', doc_count: 2 }]) },
          { ...day('2024-03-02'), doc_count: 1, states: terms([{ key: 'FAILURE', doc_count: 1 }]) },
        ],
      },
    },
  },
  {
    name: 'histogram: interval with min_doc_count 1',
    aggs: { rt: { histogram: { field: 'runtime', interval: 1, min_doc_count: 1 } } },
    expect: {
      rt: {
        buckets: [
          { key: 0, doc_count: 3 },
          { key: 1, doc_count: 1 },
          { key: 2, doc_count: 1 },
          { key: 3, doc_count: 1 },
          { key: 12, doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'histogram: empty buckets between filled ones',
    aggs: { rt: { histogram: { field: 'runtime', interval: 5 } } },
    expect: {
      rt: {
        buckets: [
          { key: 0, doc_count: 6 },
          { key: 5, doc_count: 0 },
          { key: 10, doc_count: 1 },
        ],
      },
    },
  },
  {
    name: 'histogram: extended_bounds and sub-aggregation',
    aggs: {
      rt: {
        histogram: { field: 'runtime', interval: 5, extended_bounds: { min: 0, max: 20 } },
        aggs: { n: { cardinality: { field: 'worker' } } },
      },
    },
    expect: {
      rt: {
        buckets: [
          { key: 0, doc_count: 6, n: { value: 3 } },
          { key: 5, doc_count: 0, n: { value: 0 } },
          { key: 10, doc_count: 1, n: { value: 1 } },
          { key: 15, doc_count: 0, n: { value: 0 } },
          { key: 20, doc_count: 0, n: { value: 0 } },
        ],
      },
    },
  },
  {
    name: 'metrics: sum, avg, min, max',
    aggs: {
      sum: { sum: { field: 'runtime' } },
      avg: { avg: { field: 'runtime' } },
      min: { min: { field: 'runtime' } },
      max: { max: { field: 'runtime' } },
    },
    expect: { sum: { value: 19.5 }, avg: { value: 19.5 / 7 }, min: { value: 0 }, max: { value: 12 } },
  },
  {
    name: 'metrics: stats',
    aggs: { retries: { stats: { field: 'retries' } } },
    expect: { retries: { count: 7, min: 0, max: 3, avg: 6 / 7, sum: 6 } },
  },
  {
    name: 'metrics: on a nested field',
    aggs: { p: { sum: { field: 'meta.priority' } } },
    expect: { p: { value: 14 } },
  },
  {
    name: 'metrics: min and max of a date have value_as_string',
    aggs: { first: { min: { field: 'received' } }, last: { max: { field: 'received' } } },
    expect: {
      first: { value: Date.parse('2024-02-28T23:59:59.999Z'), value_as_string: '2024-02-28T23:59:59.999Z' },
      last: { value: Date.parse('2024-04-01T00:00:00.000Z'), value_as_string: '2024-04-01T00:00:00.000Z' },
    },
  },
  {
    name: 'cardinality: keywords and array elements',
    aggs: { workers: { cardinality: { field: 'worker' } }, tags: { cardinality: { field: 'tags' } } },
    expect: { workers: { value: 3 }, tags: { value: 4 } },
  },
  {
    name: 'filter: doc_count and sub-aggregations',
    aggs: {
      ok: {
        filter: { query: { term: { field: 'ok', value: true } } },
        aggs: { rt: { avg: { field: 'runtime' } }, hosts: { terms: { field: 'meta.host' } } },
      },
    },
    expect: {
      ok: {
        doc_count: 4,
        rt: { value: 4.0625 },
        hosts: terms([
          { key: 'gamma', doc_count: 2 },
          { key: 'alpha', doc_count: 1 },
          { key: 'beta', doc_count: 1 },
        ]),
      },
    },
  },
  {
    name: 'aggregations over no documents',
    query: { term: { field: 'state', value: 'NONE' } },
    aggs: {
      sum: { sum: { field: 'runtime' } },
      avg: { avg: { field: 'runtime' } },
      stats: { stats: { field: 'runtime' } },
      states: { terms: { field: 'state' } },
      per_day: { date_histogram: { field: 'received', calendar_interval: 'day' } },
      f: { filter: { query: { match_all: {} } } },
    },
    expect: {
      sum: { value: 0 },
      avg: { value: null },
      stats: { count: 0, min: null, max: null, avg: null, sum: 0 },
      states: terms([]),
      per_day: { buckets: [] },
      f: { doc_count: 0 },
    },
  },
];

const INVALID_AGGS: Array<{ name: string; aggs: Record<string, unknown>; kind: string; message: RegExp }> = [
  { name: 'undeclared field', aggs: { x: { terms: { field: 'nope' } } }, kind: 'invalid', message: /"nope"/ },
  { name: 'sum of a keyword', aggs: { x: { sum: { field: 'state' } } }, kind: 'invalid', message: /state/ },
  {
    name: 'date_histogram of a number',
    aggs: { x: { date_histogram: { field: 'runtime', calendar_interval: 'day' } } },
    kind: 'invalid',
    message: /runtime/,
  },
  {
    name: 'both intervals',
    aggs: { x: { date_histogram: { field: 'received', calendar_interval: 'day', fixed_interval: '1h' } } },
    kind: 'invalid',
    message: /exactly one/,
  },
  {
    name: 'bad calendar interval',
    aggs: { x: { date_histogram: { field: 'received', calendar_interval: '2d' } } },
    kind: 'invalid',
    message: /2d/,
  },
  {
    name: 'order by a missing sub-aggregation',
    aggs: { x: { terms: { field: 'state', order: { nope: 'asc' } } } },
    kind: 'invalid',
    message: /nope/,
  },
  { name: 'unknown aggregation type', aggs: { x: { percentiles: { field: 'runtime' } } }, kind: 'unsupported', message: /percentiles/ },
  {
    name: 'injection in a sub-aggregation field',
    aggs: { x: { terms: { field: 'state' }, aggs: { y: { max: { field: 'runtime) FROM x --' } } } } },
    kind: 'invalid',
    message: /runtime\) FROM x/,
  },
];

function roundFloats(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(roundFloats);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundFloats(v)]));
  return value;
}

t.test('aggregation contract', async (t) => {
  forEachEngine(t, 'aggs', async (t, { store }) => {
    for (const spec of SPECS) {
      await store.indexes.ensure(spec);
      await store.indexes.bulkUpsert(spec.name, SCOPE, DOCS);
      // Another scope's documents must never be counted.
      await store.indexes.bulkUpsert(
        spec.name,
        'app2',
        DOCS.map((d) => ({ ...d, state: 'SUCCESS', worker: 'w9' })),
      );
    }
    for (const spec of SPECS) {
      t.test(`${spec.name}: aggregations`, async (t) => {
        for (const c of AGG_CASES) {
          t.test(c.name, async (t) => {
            const result = await store.indexes.search(spec.name, SCOPE, {
              ...(c.query === undefined ? {} : { query: c.query }),
              aggs: c.aggs,
              limit: 0,
            });
            const aggregations = result.aggregations ?? {};
            for (const [name, expected] of Object.entries(c.expect)) {
              const actual = aggregations[name] as AggregationResult | undefined;
              // Float sums may differ in the last bits between engines; compare to 12 significant digits.
              if (name === 'names' && c.name.includes('min_doc_count drops')) {
                t.same(
                  roundFloats((actual as { buckets?: unknown } | undefined)?.buckets),
                  roundFloats((expected as { buckets: unknown }).buckets),
                  name,
                );
              } else t.same(roundFloats(actual), roundFloats(expected), name);
            }
          });
        }
      });
      t.test(`${spec.name}: invalid aggregations`, async (t) => {
        for (const c of INVALID_AGGS) {
          t.test(c.name, async (t) =>
            rejectsWith(t, store.indexes.search(spec.name, SCOPE, { aggs: c.aggs as Record<string, Aggregation> }), c.kind, c.message),
          );
        }
      });
    }
  });
});
