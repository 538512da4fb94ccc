// Unit: the auto_date_histogram interval ladder, and the Elasticsearch DSL and mappings of the task-monitor extensions.
import t from 'tap';
import { AUTO_INTERVALS, autoBucketKey, chooseAutoInterval } from '../../src/dates.js';
import { indexMappings } from '../../src/elasticsearch/mappings.js';
import { compileAggsToEs, compileQueryToEs, createClusterClient, resolveSpec } from '../../src/index.js';

const ms = (iso: string) => Date.parse(iso);

t.test('the ladder is Elasticsearch’s, smallest first', async (t) => {
  t.same(
    AUTO_INTERVALS.map((i) => `${i.count}${i.unit}`),
    [
      '1second',
      '5second',
      '10second',
      '30second',
      '1minute',
      '5minute',
      '10minute',
      '30minute',
      '1hour',
      '3hour',
      '12hour',
      '1day',
      '7day',
      '1month',
      '3month',
      '1year',
      '5year',
      '10year',
      '20year',
      '50year',
      '100year',
    ],
  );
});

t.test('chooseAutoInterval picks the smallest interval giving at most the target', async (t) => {
  const one = chooseAutoInterval(ms('2024-05-01T10:00:00Z'), ms('2024-05-01T10:00:00Z'), 30);
  t.match(one, { interval: '1s', buckets: 1, anchor: ms('2024-05-01T10:00:00Z') }, 'a single value is one 1s bucket');
  const hours = chooseAutoInterval(ms('2024-05-01T10:17:00Z'), ms('2024-05-02T09:00:00Z'), 30);
  t.match(hours, { interval: '1h', buckets: 24, anchor: ms('2024-05-01T10:00:00Z') }, '23 h span: 24 hourly buckets from the hour');
  const threeHours = chooseAutoInterval(ms('2024-05-01T10:17:00Z'), ms('2024-05-03T09:00:00Z'), 30);
  t.match(threeHours, { interval: '3h', buckets: 16 }, '47 h span: 48 hourly buckets are too many, 3 h give 16');
  const months = chooseAutoInterval(ms('2023-11-15T00:00:00Z'), ms('2024-02-01T00:00:00Z'), 5);
  t.match(months, { interval: '1M', buckets: 4, anchor: ms('2023-11-01T00:00:00Z') }, 'calendar months across a year end');
  t.equal(months.next(months.anchor), ms('2023-12-01T00:00:00Z'));
  const years = chooseAutoInterval(ms('2001-06-01T00:00:00Z'), ms('2024-06-01T00:00:00Z'), 3);
  t.match(years, { interval: '10y', buckets: 3, anchor: ms('2001-01-01T00:00:00Z') });
  const huge = chooseAutoInterval(0, ms('9999-01-01T00:00:00Z'), 2);
  t.match(huge, { interval: '100y' }, 'nothing fits: the largest interval');
});

t.test('autoBucketKey steps from the anchor, not from the epoch', async (t) => {
  const anchor = ms('2024-05-01T10:00:03Z');
  t.equal(autoBucketKey(ms('2024-05-01T10:00:07.500Z'), 'second', 5, anchor), ms('2024-05-01T10:00:03Z'));
  t.equal(autoBucketKey(ms('2024-05-01T10:00:08Z'), 'second', 5, anchor), ms('2024-05-01T10:00:08Z'));
  t.equal(autoBucketKey(ms('2024-08-20T00:00:00Z'), 'month', 3, ms('2024-01-01T00:00:00Z')), ms('2024-07-01T00:00:00Z'));
  t.equal(autoBucketKey(ms('2024-01-09T00:00:00Z'), 'day', 7, ms('2024-01-02T00:00:00Z')), ms('2024-01-09T00:00:00Z'));
});

const spec = resolveSpec({ name: 'ext', fields: { name: 'keyword', at: 'date', kw: 'flattened' } });

t.test('case-insensitive patterns, flattened keys and auto_date_histogram compile to Elasticsearch DSL', async (t) => {
  t.same(compileQueryToEs({ wildcard: { field: 'name', value: '*a*', case_insensitive: true } }, spec), {
    wildcard: { name: { value: '*a*', case_insensitive: true } },
  });
  t.same(compileQueryToEs({ wildcard: { field: 'name', value: '*a*', case_insensitive: false } }, spec), {
    wildcard: { name: { value: '*a*' } },
  });
  t.same(compileQueryToEs({ prefix: { field: 'name', value: 'a', case_insensitive: true } }, spec), {
    prefix: { name: { value: 'a', case_insensitive: true } },
  });
  t.same(compileQueryToEs({ term: { field: 'kw.meta.source', value: 'api' } }, spec), { term: { 'kw.meta.source': { value: 'api' } } });
  t.same(compileAggsToEs({ a: { auto_date_histogram: { field: 'at' } } }, spec), {
    a: { auto_date_histogram: { field: 'at', buckets: 10 } },
  });
  t.same(compileAggsToEs({ a: { auto_date_histogram: { field: 'at', buckets: 30 }, aggs: { k: { terms: { field: 'kw.x' } } } } }, spec), {
    a: { auto_date_histogram: { field: 'at', buckets: 30 }, aggs: { k: { terms: { field: 'kw.x' } } } },
  });
  const options = { url: 'http://127.0.0.1:9200', requestTimeoutMs: 1000, maxRetries: 0 };
  const elastic = createClusterClient('elasticsearch', options);
  const openSearch = createClusterClient('opensearch', options);
  t.teardown(() => Promise.all([elastic.close(), openSearch.close()]));
  t.match(indexMappings(spec, elastic).properties?.kw, { type: 'flattened' }, 'Elasticsearch: flattened');
  t.same(indexMappings(spec, openSearch).properties?.kw, { type: 'flat_object' }, 'OpenSearch: flat_object');
});
