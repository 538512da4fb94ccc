// POST /v1/search/summary: the dropdown and environment-picker queries of the web client (leek-management-and-search
// §6, §7.1) over the per-(environment, task name) summary that ingest maintains.
import t from 'tap';
import { UPDATE_LAG, at, world } from './fixtures/world.js';

const w = await world(t);
const summary = (body: unknown, query = 'size=0') => w.search(body, { path: '/v1/search/summary', query });
const lastSeen = (ms: number) => ({ value: ms + UPDATE_LAG });

/** The client's dropdown request for one summary key (§7.1 "dropdown options"). */
function dropdown(key: string, text: string | undefined, env: string | undefined) {
  const must: unknown[] = [];
  if (text !== undefined) must.push({ wildcard: { [`${key}.wc`]: { value: `*${text}*`, case_insensitive: true } } });
  if (env !== undefined) must.push({ match: { app_env: env } });
  return {
    query: { bool: { must } },
    aggs: {
      [key]: {
        terms: { field: key, size: 200, missing: 'N/A', min_doc_count: 1, order: { last_seen_max: 'desc' } },
        aggs: { last_seen_max: { max: { field: 'last_seen' } } },
      },
    },
  };
}

const rows = (agg: { buckets: Array<{ key: unknown; doc_count: number; last_seen_max: { value: number | null } }> }) =>
  agg.buckets.map((b) => [b.key, b.doc_count, b.last_seen_max.value]);

t.test('dropdown of functions in one environment: rows ordered by last seen, the unnamed row is N/A', async (t) => {
  const res = await summary(dropdown('function', undefined, 'prod'));
  t.equal(res.statusCode, 200);
  const agg = res.json().aggregations.function;
  t.same(rows(agg), [
    ['N/A', 1, lastSeen(at(8)).value],
    ['send_receipt', 1, lastSeen(at(7, 2)).value],
    ['build_report', 1, lastSeen(at(6, 1)).value],
    ['charge_invoice', 1, lastSeen(at(2, 3)).value],
  ]);
  t.equal(agg.sum_other_doc_count, 0);
});

t.test('dropdown with typed text: case-insensitive contains on the .wc sub-field', async (t) => {
  const agg = (await summary(dropdown('function', 'CHARGE', 'prod'))).json().aggregations.function;
  t.same(rows(agg), [['charge_invoice', 1, lastSeen(at(2, 3)).value]]);
  const modules = (await summary(dropdown('module', 'Tasks', undefined))).json().aggregations.module;
  t.same(
    rows(modules),
    [
      ['billing.tasks', 3, lastSeen(at(9)).value],
      ['mail.tasks', 1, lastSeen(at(7, 2)).value],
      ['reports.tasks', 1, lastSeen(at(6, 1)).value],
    ],
    'billing.tasks: charge_invoice in both environments and refund in staging',
  );
});

t.test('dropdowns of queues, exchanges and routing keys: routing never seen is N/A, the default exchange is ""', async (t) => {
  t.same(rows((await summary(dropdown('queue', undefined, 'prod'))).json().aggregations.queue), [
    ['N/A', 1, lastSeen(at(8)).value],
    ['mail', 1, lastSeen(at(7, 2)).value],
    ['reports', 1, lastSeen(at(6, 1)).value],
    ['billing', 1, lastSeen(at(2, 3)).value],
  ]);
  t.same(rows((await summary(dropdown('exchange', undefined, 'prod'))).json().aggregations.exchange), [
    ['N/A', 1, lastSeen(at(8)).value],
    ['', 3, lastSeen(at(7, 2)).value],
  ]);
  t.same(rows((await summary(dropdown('routing_key', 'bill', 'staging'))).json().aggregations.routing_key), [
    ['billing', 2, lastSeen(at(9)).value],
  ]);
});

t.test('dropdown of error.type (not a summary field): one N/A bucket over every row, no error', async (t) => {
  const res = await summary(dropdown('error.type', undefined, 'prod'));
  t.equal(res.statusCode, 200);
  const agg = res.json().aggregations['error.type'];
  t.same(agg, {
    doc_count_error_upper_bound: 0,
    sum_other_doc_count: 0,
    buckets: [{ key: 'N/A', doc_count: 4, last_seen_max: lastSeen(at(8)) }],
  });
  const typed = (await summary(dropdown('error.type', 'smtp', 'prod'))).json().aggregations['error.type'];
  t.same(typed.buckets, [], 'a wildcard on an unknown field matches no row');
});

t.test('environment list: every environment with its number of rows', async (t) => {
  const res = await summary({ aggs: { seen_envs: { terms: { field: 'app_env' } } } });
  t.same(res.json().aggregations.seen_envs.buckets, [
    { key: 'prod', doc_count: 4 },
    { key: 'staging', doc_count: 2 },
  ]);
});

t.test('summary hits carry the summary namespace and the row fields', async (t) => {
  const res = (
    await summary({ query: { bool: { must: [{ match: { app_env: 'staging' } }] } }, sort: [{ last_seen: 'asc' }] }, 'size=5&from_=0')
  ).json();
  t.equal(res.hits.total.value, 2);
  t.match(res.hits.hits, [
    {
      _index: 'summary-acme_io-billing',
      _source: { app_env: 'staging', function: 'charge_invoice', queue: 'billing', exchange: '', tasks: 1 },
    },
    { _index: 'summary-acme_io-billing', _source: { app_env: 'staging', function: 'refund', tasks: 1 } },
  ]);
});

t.test('another org’s summary is its own', async (t) => {
  const res = await w.search(
    { aggs: { f: { terms: { field: 'function' } } } },
    { who: w.beta, path: '/v1/search/summary', query: 'size=0' },
  );
  t.same(res.json().aggregations.f.buckets, [{ key: 'leak', doc_count: 1 }]);
});

t.test('summary refuses clauses outside the subset like search does', async (t) => {
  const res = await summary({ aggs: { x: { top_hits: { size: 1 } } } });
  t.equal(res.statusCode, 400);
  t.same(res.json().error, { code: 400002, message: 'Schema validation failed', reason: 'unsupported query clause: aggs.x.top_hits' });
});
