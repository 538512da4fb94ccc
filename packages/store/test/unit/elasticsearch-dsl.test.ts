// Unit: the Elasticsearch DSL the engine sends (checked without a cluster; the contract suite checks behaviour with one).
import t from 'tap';
import {
  ElasticsearchStore,
  compileAggsToEs,
  compileQueryToEs,
  compileSortToEs,
  createClusterClient,
  resolveSpec,
} from '../../src/index.js';
import { indexMappings } from '../../src/elasticsearch/mappings.js';

const spec = resolveSpec({
  name: 'tasks',
  fields: { state: 'keyword', msg: 'text', runtime: 'number', at: 'date', ok: 'boolean', 'meta.host': 'keyword' },
});

t.test('queries compile to the matching Elasticsearch clauses', async (t) => {
  t.same(compileQueryToEs(undefined, spec), { match_all: {} });
  t.same(compileQueryToEs({ term: { field: 'state', value: 'SUCCESS' } }, spec), { term: { state: { value: 'SUCCESS' } } });
  t.same(compileQueryToEs({ terms: { field: 'meta.host', values: ['a', 'b'] } }, spec), { terms: { 'meta.host': ['a', 'b'] } });
  t.same(compileQueryToEs({ range: { field: 'at', gte: 'now-1d/d', lt: 5 } }, spec), { range: { at: { gte: 'now-1d/d', lt: 5 } } });
  t.same(compileQueryToEs({ prefix: { field: 'state', value: 'SU' } }, spec), { prefix: { state: { value: 'SU' } } });
  t.same(compileQueryToEs({ wildcard: { field: 'state', value: 'S*S' } }, spec), { wildcard: { state: { value: 'S*S' } } });
  t.same(compileQueryToEs({ exists: { field: 'ok' } }, spec), { exists: { field: 'ok' } });
  t.same(compileQueryToEs({ match: { field: 'msg', query: 'a b', operator: 'and' } }, spec), {
    match: { msg: { query: 'a b', operator: 'and' } },
  });
  t.same(compileQueryToEs({ match: { query: 'a b' } }, spec), {
    multi_match: { query: 'a b', fields: ['msg'], type: 'cross_fields', operator: 'or' },
  });
  t.same(
    compileQueryToEs(
      { bool: { must: [{ match_all: {} }], must_not: [{ exists: { field: 'ok' } }], should: [], minimum_should_match: 0 } },
      spec,
    ),
    { bool: { must: [{ match_all: {} }], should: [], must_not: [{ exists: { field: 'ok' } }], minimum_should_match: 0 } },
  );
  t.throws(() => compileQueryToEs({ term: { field: 'nope', value: 1 } }, spec), { name: 'StoreError', kind: 'invalid' });
});

t.test('sorts use keyword sub-fields for text and end with an id tiebreak', async (t) => {
  t.same(compileSortToEs([{ field: 'msg', order: 'desc' }], spec), [
    { 'msg.keyword': { order: 'desc', missing: '_last' } },
    { id: { order: 'asc' } },
  ]);
  t.same(compileSortToEs([{ field: 'id', order: 'desc', missing: '_first' }], spec), [{ id: { order: 'desc', missing: '_first' } }]);
});

t.test('aggregations compile with explicit defaults and key tiebreaks', async (t) => {
  t.same(
    compileAggsToEs(
      {
        s: {
          terms: { field: 'msg', size: 3, missing: 'n/a', min_doc_count: 0, order: { _count: 'asc' } },
          aggs: { r: { avg: { field: 'runtime' } } },
        },
        d: { date_histogram: { field: 'at', calendar_interval: 'week', extended_bounds: { min: '2024-01-01', max: 'now' } } },
        h: { histogram: { field: 'runtime', interval: 2.5 } },
        f: { filter: { query: { term: { field: 'ok', value: true } } }, aggs: { c: { cardinality: { field: 'msg' } } } },
        st: { stats: { field: 'runtime' } },
      },
      spec,
    ),
    {
      s: {
        terms: { field: 'msg.keyword', size: 3, missing: 'n/a', min_doc_count: 0, order: [{ _count: 'asc' }, { _key: 'asc' }] },
        aggs: { r: { avg: { field: 'runtime' } } },
      },
      d: {
        date_histogram: { field: 'at', min_doc_count: 0, calendar_interval: 'week', extended_bounds: { min: '2024-01-01', max: 'now' } },
      },
      h: { histogram: { field: 'runtime', interval: 2.5, min_doc_count: 0 } },
      f: { filter: { term: { ok: { value: true } } }, aggs: { c: { cardinality: { field: 'msg.keyword' } } } },
      st: { stats: { field: 'runtime' } },
    },
  );
});

t.test('mappings follow the spec, nested fields as objects, undeclared fields not indexed', async (t) => {
  const client = createClusterClient('elasticsearch', { url: 'http://127.0.0.1:9200', requestTimeoutMs: 1000, maxRetries: 0 });
  t.teardown(() => client.close());
  const m = indexMappings(spec, client);
  t.equal(m.dynamic, false);
  t.match(m.properties?.id, { type: 'keyword' });
  t.same(m.properties?.runtime, { type: 'double' });
  t.same(m.properties?.ok, { type: 'boolean' });
  t.match(m.properties?.at, { type: 'date' });
  t.match(m.properties?.msg, { type: 'text', fields: { keyword: { type: 'keyword' } } });
  t.match(m.properties?.meta, { type: 'object', properties: { host: { type: 'keyword' } } });
});

t.test('index names: prefix, spec name, and scope when not empty', async (t) => {
  const store = new ElasticsearchStore({ url: 'http://127.0.0.1:9200', prefix: 'p-' });
  t.teardown(() => store.close());
  t.equal(store.indexes.indexName('tasks', ''), 'p-tasks');
  t.equal(store.indexes.indexName('tasks', 'app-1'), 'p-tasks-app-1');
  t.equal(store.indexes.scriptId('counter'), 'p-merge-counter');
  t.throws(() => store.indexes.indexName('tasks', 'App'), { name: 'StoreError', kind: 'invalid' });
});
