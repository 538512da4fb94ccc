// The query-DSL front-end (leek-management-and-search §7): every request of the web client's catalogue (§7.1, §7.2,
// §7.7) parses to the expected AST against the real task-monitor index specs, unknown fields match nothing, and every
// clause outside the subset is refused naming its path.
import t from 'tap';
import {
  type DslSearch,
  LEEK_EVENTS_FIELDS,
  LEEK_EVENTS_SPEC,
  LEEK_SUMMARY_SPEC,
  MATCH_NONE,
  type Query,
  type SearchResult,
  dslResponse,
  filterSource,
  fromDsl,
  resolveSpec,
} from '../src/index.js';

const events = resolveSpec(LEEK_EVENTS_SPEC);
const summary = resolveSpec(LEEK_SUMMARY_SPEC);
/** The events spec declares kwargs_flattened as a flattened field; this one does not. */
const { kwargs_flattened: _kwargs, ...fieldsWithoutKwargs } = LEEK_EVENTS_FIELDS;
const eventsWithoutKwargs = resolveSpec({ ...LEEK_EVENTS_SPEC, fields: fieldsWithoutKwargs });
/** The events spec with full-text error fields (as Elasticsearch maps `exception` with a `.keyword` sub-field). */
const eventsWithText = resolveSpec({ ...LEEK_EVENTS_SPEC, fields: { ...LEEK_EVENTS_FIELDS, exception: 'text', 'error.message': 'text' } });

const NOW = 1_718_000_000_000;
const match = (field: string, value: string | boolean) => ({ match: { [field]: value } });
const term = (field: string, value: string | number | boolean): Query => ({ term: { field, value } });

/** §7.2: the filter builder with every input set. */
const TASK_FILTERS = [
  match('kind', 'task'),
  match('app_env', 'prod'),
  { terms: { name: ['billing.tasks.charge_invoice', 'mail.tasks.send_receipt'] } },
  { terms: { 'name_parts.module': ['billing.tasks'] } },
  { terms: { 'name_parts.function': ['charge_invoice'] } },
  match('uuid', '7f3c1e2a'),
  { terms: { state: ['FAILED', 'CRITICAL'] } },
  { terms: { worker: ['celery@worker-b'] } },
  { term: { client: 'gen123@web-1' } },
  { terms: { routing_key: ['billing'] } },
  { terms: { exchange: [''] } },
  { terms: { queue: ['billing'] } },
  match('parent', 'x'),
  { range: { runtime: { gte: 1.5 } } },
  { range: { retries: { lte: 3 } } },
  { terms: { 'error.type': ['smtplib.SMTPServerDisconnected'] } },
  { term: { 'error.message': 'closed' } },
  { wildcard: { 'trace.wc': { value: '*SMTPServer*', case_insensitive: true } } },
  { wildcard: { args: { value: "(42, 'EUR*", case_insensitive: true } } },
  { wildcard: { kwargs: { value: "{'notify'*", case_insensitive: true } } },
  { wildcard: { result: { value: "{'charged'*", case_insensitive: true } } },
  match('root_id', 'r1'),
  match('parent_id', 'p1'),
  { match: { terminated: { query: true } } },
  { match: { expired: { query: true } } },
  { match: { requeue: { query: false } } },
  { term: { args_1: 'EUR' } },
  { term: { 'kwargs_flattened.meta.source': 'api' } },
  { range: { timestamp: { gte: NOW - 3_600_000, lte: NOW } } },
  { range: { queued_at: { gte: NOW - 900_000 } } },
  { range: { sent_at: { gte: NOW - 900_000 } } },
];

const TASK_FILTERS_AST: Query[] = [
  term('kind', 'task'),
  term('app_env', 'prod'),
  { terms: { field: 'name', values: ['billing.tasks.charge_invoice', 'mail.tasks.send_receipt'] } },
  { terms: { field: 'name_parts.module', values: ['billing.tasks'] } },
  { terms: { field: 'name_parts.function', values: ['charge_invoice'] } },
  term('id', '7f3c1e2a'), // uuid is an id alias: equality uses the primary key
  { terms: { field: 'state', values: ['FAILED', 'CRITICAL'] } },
  { terms: { field: 'worker', values: ['celery@worker-b'] } },
  term('client', 'gen123@web-1'),
  { terms: { field: 'routing_key', values: ['billing'] } },
  { terms: { field: 'exchange', values: [''] } },
  { terms: { field: 'queue', values: ['billing'] } },
  MATCH_NONE,
  { range: { field: 'runtime', gte: 1.5 } },
  { range: { field: 'retries', lte: 3 } },
  { terms: { field: 'error.type', values: ['smtplib.SMTPServerDisconnected'] } },
  term('error.message', 'closed'),
  { wildcard: { field: 'trace.wc', value: '*SMTPServer*', case_insensitive: true } },
  { wildcard: { field: 'args', value: "(42, 'EUR*", case_insensitive: true } },
  { wildcard: { field: 'kwargs', value: "{'notify'*", case_insensitive: true } },
  { wildcard: { field: 'result', value: "{'charged'*", case_insensitive: true } },
  term('root_id', 'r1'),
  term('parent_id', 'p1'),
  term('terminated', true),
  term('expired', true),
  term('requeue', false),
  term('args_1', 'EUR'),
  term('kwargs_flattened.meta.source', 'api'),
  { range: { field: 'timestamp', gte: NOW - 3_600_000, lte: NOW } },
  { range: { field: 'queued_at', gte: NOW - 900_000 } },
  MATCH_NONE,
];

const page = (offset: number, limit: number) => ({ offset, limit });

t.test('§7.1 catalogue: each client request parses to the expected AST', async (t) => {
  t.test('task list: filters in must, N/A as must_not exists, sort by timestamp, URL page', async (t) => {
    const parsed = fromDsl(
      {
        query: { bool: { must: TASK_FILTERS, must_not: [{ exists: { field: 'queue' } }, { exists: { field: 'routing_key' } }] } },
        sort: [{ timestamp: { order: 'desc' } }],
      },
      events,
      { size: 20, from: 40 },
    );
    t.same(parsed.request, {
      query: {
        bool: {
          must: TASK_FILTERS_AST,
          must_not: [{ exists: { field: 'queue' } }, { exists: { field: 'routing_key' } }],
        },
      },
      sort: [{ field: 'timestamp', order: 'desc' }],
      ...page(40, 20),
    });
    t.equal(parsed.sorted, true);
    t.same(parsed.source, { enabled: true, includes: [], excludes: [] });
    t.equal(parsed.aggs, undefined);
  });

  t.test('without kwargs_flattened declared, the kwarg filter matches nothing', async (t) => {
    t.equal(events.fields.get('kwargs_flattened'), 'flattened', 'the real spec declares it');
    const parsed = fromDsl({ query: { term: { 'kwargs_flattened.meta.source': 'api' } } }, eventsWithoutKwargs);
    t.same(parsed.request.query, MATCH_NONE);
  });

  t.test('task by id and worker by id: term on _id', async (t) => {
    t.same(fromDsl({ query: { term: { _id: '7f3c1e2a' } } }, events, { size: 1, from: 0 }).request, {
      query: term('id', '7f3c1e2a'),
      ...page(0, 1),
    });
    t.same(fromDsl({ query: { term: { _id: 'celery@worker-b' } } }, events, { size: 1 }).request.query, term('id', 'celery@worker-b'));
  });

  t.test('worker list: matches, no sort', async (t) => {
    const parsed = fromDsl(
      { query: { bool: { must: [match('kind', 'worker'), match('app_env', 'prod'), match('state', 'ONLINE'), match('hostname', 'h')] } } },
      events,
      { size: 10, from: 0 },
    );
    t.same(parsed.request.query, {
      bool: { must: [term('kind', 'worker'), term('app_env', 'prod'), term('state', 'ONLINE'), term('hostname', 'h')] },
    });
    t.equal(parsed.sorted, false);
    t.notOk('sort' in parsed.request);
  });

  t.test('monitor charts: terms, nested terms + avg, auto_date_histogram', async (t) => {
    const parsed = fromDsl(
      {
        query: { bool: { must: [match('kind', 'task')] } },
        sort: [{ timestamp: { order: 'desc' } }],
        aggs: {
          statesDistribution: { terms: { field: 'state' } },
          queuesDistribution: { terms: { field: 'queue', size: 100 } },
          tasksDistribution: {
            terms: { field: 'name', size: 1000 },
            aggs: { statesDistribution: { terms: { field: 'state' } }, runtimeDistribution: { avg: { field: 'runtime' } } },
          },
          timeDistribution: { auto_date_histogram: { field: 'timestamp', buckets: 30 } },
        },
      },
      events,
      { size: 0 },
    );
    t.same(parsed.request.aggs, {
      statesDistribution: { terms: { field: 'state', size: 10 } },
      queuesDistribution: { terms: { field: 'queue', size: 100 } },
      tasksDistribution: {
        terms: { field: 'name', size: 1000 },
        aggs: { statesDistribution: { terms: { field: 'state', size: 10 } }, runtimeDistribution: { avg: { field: 'runtime' } } },
      },
      timeDistribution: { auto_date_histogram: { field: 'timestamp', buckets: 30 } },
    });
    t.equal(parsed.request.limit, 0);
    t.same(parsed.aggs?.tasksDistribution, {
      kind: 'native',
      subs: { statesDistribution: { kind: 'native', subs: {} }, runtimeDistribution: { kind: 'native', subs: {} } },
    });
  });

  t.test('queues page and issues page: exception.keyword is the text field exception', async (t) => {
    const queues = fromDsl(
      { aggs: { queues: { terms: { field: 'queue', size: 100 }, aggs: { state: { terms: { field: 'state' } } } } } },
      events,
    );
    t.same(queues.request.aggs, {
      queues: { terms: { field: 'queue', size: 100 }, aggs: { state: { terms: { field: 'state', size: 10 } } } },
    });
    const issues = fromDsl(
      {
        query: { bool: { must: [{ range: { timestamp: { gte: NOW - 86_400_000 } } }, match('app_env', 'prod')] } },
        aggs: { exceptions: { terms: { field: 'exception.keyword' }, aggs: { state: { terms: { field: 'state' } } } } },
      },
      events,
      { size: 0 },
    );
    t.same(issues.request.aggs, {
      exceptions: { terms: { field: 'exception', size: 10 }, aggs: { state: { terms: { field: 'state', size: 10 } } } },
    });
  });

  t.test('dashboard metrics: body size 0 and sum under terms', async (t) => {
    const parsed = fromDsl(
      {
        size: 0,
        query: { bool: { must: [match('app_env', 'prod')] } },
        aggs: {
          seen_tasks: { terms: { field: 'name', size: 1000 } },
          seen_workers: { terms: { field: 'hostname', size: 1000 } },
          seen_states: { terms: { field: 'state' } },
          seen_routing_keys: { terms: { field: 'routing_key' } },
          seen_queues: { terms: { field: 'queue', size: 1000 } },
          events: { terms: { field: 'kind' }, aggs: { processed: { sum: { field: 'events_count' } } } },
        },
      },
      events,
    );
    t.equal(parsed.request.limit, 0, 'body size applies without a URL size');
    t.same(parsed.request.aggs?.events, { terms: { field: 'kind', size: 10 }, aggs: { processed: { sum: { field: 'events_count' } } } });
    t.same(Object.keys(parsed.request.aggs ?? {}), [
      'seen_tasks',
      'seen_workers',
      'seen_states',
      'seen_routing_keys',
      'seen_queues',
      'events',
    ]);
  });

  t.test('seen task names: missing N/A and min_doc_count 0', async (t) => {
    const parsed = fromDsl({ aggs: { seen_tasks: { terms: { field: 'name', size: 1000, missing: 'N/A', min_doc_count: 0 } } } }, events);
    t.same(parsed.request.aggs, { seen_tasks: { terms: { field: 'name', size: 1000, missing: 'N/A', min_doc_count: 0 } } });
  });

  t.test('dropdown options on the summary: .wc wildcard, order by a max sub-aggregation', async (t) => {
    const parsed = fromDsl(
      {
        query: {
          bool: { must: [{ wildcard: { 'function.wc': { value: '*charge*', case_insensitive: true } } }, match('app_env', 'prod')] },
        },
        aggs: {
          function: {
            terms: { field: 'function', size: 200, missing: 'N/A', min_doc_count: 1, order: { last_seen_max: 'desc' } },
            aggs: { last_seen_max: { max: { field: 'last_seen' } } },
          },
        },
      },
      summary,
      { size: 0 },
    );
    t.same(parsed.request.query, {
      bool: { must: [{ wildcard: { field: 'function', value: '*charge*', case_insensitive: true } }, term('app_env', 'prod')] },
    });
    t.same(parsed.request.aggs, {
      function: {
        terms: { field: 'function', size: 200, missing: 'N/A', min_doc_count: 1, order: { last_seen_max: 'desc' } },
        aggs: { last_seen_max: { max: { field: 'last_seen' } } },
      },
    });
  });

  t.test('dropdown on error.type (not a summary field): every row is the N/A bucket', async (t) => {
    const parsed = fromDsl(
      {
        query: { bool: { must: [{ wildcard: { 'error.type.wc': { value: '*x*', case_insensitive: true } } }] } },
        aggs: {
          'error.type': {
            terms: { field: 'error.type', size: 200, missing: 'N/A', min_doc_count: 1, order: { last_seen_max: 'desc' } },
            aggs: { last_seen_max: { max: { field: 'last_seen' } } },
          },
        },
      },
      summary,
    );
    t.same(parsed.request.query, { bool: { must: [MATCH_NONE] } });
    t.same(parsed.request.aggs, {
      _agg0: { filter: { query: { match_all: {} } }, aggs: { last_seen_max: { max: { field: 'last_seen' } } } },
    });
    t.match(parsed.aggs, { 'error.type': { kind: 'missing', key: 'N/A', as: '_agg0' } }, 'the response keeps the name error.type');
  });

  t.test('env list on the summary', async (t) => {
    const parsed = fromDsl({ aggs: { seen_envs: { terms: { field: 'app_env' } } } }, summary, { size: 0 });
    t.same(parsed.request, { ...page(0, 0), aggs: { seen_envs: { terms: { field: 'app_env', size: 10 } } } });
  });

  t.test('defined-but-unused calls: prefix-like wildcard on name, seen queues', async (t) => {
    const parsed = fromDsl(
      {
        query: { bool: { must: [{ wildcard: { name: { value: 'billing*', case_insensitive: true } } }] } },
        aggs: {
          seen_tasks: { terms: { field: 'name', size: 1000, missing: 'N/A', min_doc_count: 1 } },
          seen_queues: { terms: { field: 'queue', size: 100, missing: 'N/A', min_doc_count: 0 } },
        },
      },
      events,
    );
    t.same(parsed.request.query, { bool: { must: [{ wildcard: { field: 'name', value: 'billing*', case_insensitive: true } }] } });
    t.same(parsed.request.aggs?.seen_queues, { terms: { field: 'queue', size: 100, missing: 'N/A', min_doc_count: 0 } });
  });

  t.test('§7.7 server-internal shapes: bool filter, sort by a string order, exists', async (t) => {
    const parsed = fromDsl(
      {
        query: { bool: { filter: [{ exists: { field: 'updated_at' } }, { term: { kind: 'task' } }] } },
        sort: { timestamp: 'desc' },
        size: 1,
      },
      events,
    );
    t.same(parsed.request, {
      query: { bool: { filter: [{ exists: { field: 'updated_at' } }, term('kind', 'task')] } },
      sort: [{ field: 'timestamp', order: 'desc' }],
      ...page(0, 1),
    });
  });
});

t.test('the wider subset: should, ids, prefix, match on text, ranges, filters, metrics, _source', async (t) => {
  const parsed = fromDsl(
    {
      query: {
        bool: {
          should: [{ ids: { values: ['a', 'b'] } }, { prefix: { name: { value: 'Billing.', case_insensitive: true } } }],
          minimum_should_match: '1',
          filter: { match: { 'error.message': { query: 'connection closed', operator: 'AND' } } },
          must: [
            { range: { timestamp: { gte: 'now-1h', lt: null } } },
            { range: { runtime: {} } },
            { term: { name: { value: 'BILLING.x', case_insensitive: true } } },
            { wildcard: { name: { wildcard: 'b*' } } },
            { match_all: {} },
          ],
        },
      },
      sort: ['_score', { 'exception.keyword': { order: 'asc', missing: '_first' } }, { sent_at: { unmapped_type: 'long' } }],
      aggs: {
        f: { filter: { term: { state: 'FAILED' } }, aggs: { rt: { stats: { field: 'runtime' } } } },
        fs: { filters: { filters: { ok: match('state', 'SUCCEEDED'), bad: match('state', 'FAILED') } } },
        c: { cardinality: { field: 'worker' } },
        h: { histogram: { field: 'runtime', interval: 1 } },
        d: { date_histogram: { field: 'timestamp', interval: '1d' } },
      },
      _source: { includes: ['uuid', 'error.*'], excludes: ['error.message'] },
      track_total_hits: true,
    },
    eventsWithText,
  );
  t.same(parsed.request.query, {
    bool: {
      should: [{ terms: { field: 'id', values: ['a', 'b'] } }, { prefix: { field: 'name', value: 'Billing.', case_insensitive: true } }],
      filter: [{ match: { field: 'error.message', query: 'connection closed', operator: 'and' } }],
      must: [
        { range: { field: 'timestamp', gte: 'now-1h' } },
        { exists: { field: 'runtime' } },
        { wildcard: { field: 'name', value: 'BILLING.x', case_insensitive: true } },
        { wildcard: { field: 'name', value: 'b*' } },
        { match_all: {} },
      ],
      minimum_should_match: 1,
    },
  });
  t.same(parsed.request.sort, [{ field: 'exception', order: 'asc', missing: '_first' }], '_score and unmapped fields leave the sort');
  t.same(parsed.request.aggs, {
    f: { filter: { query: term('state', 'FAILED') }, aggs: { rt: { stats: { field: 'runtime' } } } },
    fs: {
      filter: { query: { match_all: {} } },
      aggs: { b0: { filter: { query: term('state', 'SUCCEEDED') } }, b1: { filter: { query: term('state', 'FAILED') } } },
    },
    c: { cardinality: { field: 'worker' } },
    h: { histogram: { field: 'runtime', interval: 1 } },
    d: { date_histogram: { field: 'timestamp', calendar_interval: '1d' } },
  });
  t.same(parsed.source, { enabled: true, includes: ['uuid', 'error.*'], excludes: ['error.message'] });
  t.equal(parsed.request.limit, 10, 'default size');
});

t.test('match and .keyword follow the field type: exact on keywords, words on text', async (t) => {
  t.same(
    fromDsl({ query: { match: { 'error.message': 'connection closed' } } }, events).request.query,
    term('error.message', 'connection closed'),
  );
  t.same(fromDsl({ query: { term: { 'exception.keyword': 'E()' } } }, events).request.query, term('exception', 'E()'), 'keyword .keyword');
  t.same(fromDsl({ query: { match: { 'error.message': 'connection closed' } } }, eventsWithText).request.query, {
    match: { field: 'error.message', query: 'connection closed' },
  });
  t.same(fromDsl({ aggs: { e: { terms: { field: 'exception.keyword' } } } }, eventsWithText).request.aggs, {
    e: { terms: { field: 'exception', size: 10 } },
  });
  t.same(fromDsl({ query: { exists: { field: 'exception.keyword' } } }, eventsWithText).request.query, { exists: { field: 'exception' } });
});

t.test('term with case_insensitive escapes wildcard characters of the value', async (t) => {
  t.same(fromDsl({ query: { term: { name: { value: 'a*b?c\\', case_insensitive: true } } } }, events).request.query, {
    wildcard: { field: 'name', value: 'a\\*b\\?c\\\\', case_insensitive: true },
  });
});

t.test('unknown fields: clauses match nothing, aggregations are empty or all-N/A', async (t) => {
  const parsed = fromDsl(
    {
      query: { bool: { must_not: [{ exists: { field: 'nope' } }], must: [{ terms: { nope: ['x'] } }] } },
      aggs: {
        a: { terms: { field: 'nope' } },
        b: { terms: { field: 'nope', missing: 'N/A' }, aggs: { m: { max: { field: 'timestamp' } }, s: { sum: { field: 'nope' } } } },
        c: { avg: { field: 'nope' } },
        d: { auto_date_histogram: { field: 'nope' } },
        e: { terms: { field: 'state', order: { m: 'desc' } }, aggs: { m: { max: { field: 'nope' } } } },
      },
    },
    events,
  );
  t.same(parsed.request.query, { bool: { must_not: [MATCH_NONE], must: [MATCH_NONE] } });
  t.same(parsed.request.aggs, {
    b: { filter: { query: { match_all: {} } }, aggs: { m: { max: { field: 'timestamp' } } } },
    e: { terms: { field: 'state', size: 10, order: { _key: 'asc' } } },
  });
  t.match(parsed.aggs, {
    a: { kind: 'constant' },
    b: { kind: 'missing', key: 'N/A', minDocCount: 1 },
    c: { kind: 'constant', result: { value: null } },
    d: { kind: 'constant', result: { buckets: [], interval: '1s' } },
  });
});

t.test('every clause outside the subset is refused, naming itself', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    [
      'geo query inside bool',
      { query: { bool: { must: [match('kind', 'task'), { geo_distance: {} }] } } },
      'query.bool.must[1].geo_distance',
    ],
    ['script query', { query: { script: { script: 'true' } } }, 'query.script'],
    ['query_string', { query: { query_string: { query: 'a' } } }, 'query.query_string'],
    ['match_phrase', { query: { match_phrase: { name: 'a' } } }, 'query.match_phrase'],
    ['nested under must_not', { query: { bool: { must_not: { nested: { path: 'stack' } } } } }, 'query.bool.must_not.nested'],
    ['match option', { query: { match: { name: { query: 'a', fuzziness: 2 } } } }, 'query.match.name.fuzziness'],
    ['bool boost', { query: { bool: { must: [], boost: 2 } } }, 'query.bool.boost'],
    ['terms lookup', { query: { terms: { name: { index: 'other', id: '1', path: 'x' } } } }, 'query.terms.name.index'],
    ['range format', { query: { range: { timestamp: { gte: 1, format: 'epoch_millis' } } } }, 'query.range.timestamp.format'],
    ['top_hits', { aggs: { x: { top_hits: {} } } }, 'aggs.x.top_hits'],
    ['terms include', { aggs: { x: { terms: { field: 'state', include: 'A.*' } } } }, 'aggs.x.terms.include'],
    [
      'nested percentiles',
      { aggs: { a: { terms: { field: 'name' }, aggs: { b: { percentiles: { field: 'runtime' } } } } } },
      'aggs.a.aggs.b.percentiles',
    ],
    ['scripted metric', { aggregations: { s: { scripted_metric: {} } } }, 'aggregations.s.scripted_metric'],
    ['metric missing option', { aggs: { a: { avg: { field: 'runtime', missing: 0 } } } }, 'aggs.a.avg.missing'],
    ['script_fields', { script_fields: { x: {} } }, 'script_fields'],
    ['runtime_mappings', { runtime_mappings: { x: { type: 'keyword' } } }, 'runtime_mappings'],
    ['post_filter', { post_filter: { match_all: {} } }, 'post_filter'],
    ['highlight', { highlight: {} }, 'highlight'],
    ['sort mode', { sort: [{ timestamp: { order: 'desc', mode: 'max' } }] }, 'sort[0].timestamp.mode'],
    [
      'several orders',
      { aggs: { a: { terms: { field: 'state', order: [{ _count: 'desc' }, { _count: 'asc' }] } } } },
      'aggs.a.terms.order[1]',
    ],
    ['term on the .keyword of a text field', { query: { term: { 'exception.keyword': 'x' } } }, 'query.term.exception.keyword'],
  ];
  for (const [name, body, path] of cases) {
    t.test(name, async (t) => {
      const message = new RegExp(`^unsupported query clause: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(|$)`);
      t.throws(() => fromDsl(body, eventsWithText), { name: 'StoreError', kind: 'unsupported', message });
    });
  }
});

t.test('malformed requests are invalid, with their path', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['body not an object', [1], /search body must be a JSON object/],
    [
      'two clauses in one query object',
      { query: { term: { a: 1 }, terms: { b: [1] } } },
      /^query: a query object holds exactly one clause/,
    ],
    ['term on two fields', { query: { term: { a: 1, b: 2 } } }, /^query\.term: expected exactly one field/],
    [
      'term value an object',
      { query: { term: { state: { value: { x: 1 } } } } },
      /^query\.term\.state: expected a string, number or boolean/,
    ],
    ['terms not a list', { query: { terms: { state: 'A' } } }, /^query\.terms\.state: expected a list/],
    ['range bound an object', { query: { range: { runtime: { gte: { x: 1 } } } } }, /^query\.range\.runtime\.gte: expected a number/],
    [
      'wildcard flag not a boolean',
      { query: { wildcard: { name: { value: 'a', case_insensitive: 'yes' } } } },
      /case_insensitive: expected true or false/,
    ],
    ['terms size 0', { aggs: { a: { terms: { field: 'state', size: 0 } } } }, /^aggs\.a\.terms\.size: expected at least 1/],
    [
      'terms size too large',
      { aggs: { a: { terms: { field: 'state', size: 20_000 } } } },
      /^aggs\.a\.terms\.size: expected an integer from 0 to 10000/,
    ],
    [
      'nested buckets too many',
      { aggs: { a: { terms: { field: 'name', size: 1000 }, aggs: { b: { terms: { field: 'state', size: 100 } } } } } },
      /^aggs\.a\.aggs\.b: nested aggregations could make 100000 buckets/,
    ],
    [
      'metric with sub-aggregations',
      { aggs: { a: { avg: { field: 'runtime' }, aggs: {} } } },
      /^aggs\.a\.aggs: a avg aggregation has no sub-aggregations/,
    ],
    ['aggregation name', { aggs: { 'a[0]': { avg: { field: 'runtime' } } } }, /aggregation names are 1 to 100 characters other than/],
    [
      'order names no sub-aggregation',
      { aggs: { a: { terms: { field: 'state', order: { x: 'desc' } } } } },
      /order names no sub-aggregation "x"/,
    ],
    ['unknown sort field', { sort: [{ sent_at: 'desc' }] }, /^sort\[0\]\.sent_at: no field "sent_at" to sort on/],
    ['sort order', { sort: [{ timestamp: 'down' }] }, /expected "asc" or "desc"/],
    ['negative from', { from: -1 }, /^from: expected an integer/],
    ['window', { from: 9_990, size: 20 }, /from \+ size is 10010, above the maximum of 10000/],
    ['track_total_hits', { track_total_hits: 'yes' }, /track_total_hits/],
    ['_source pattern', { _source: [1] }, /^_source: expected a field pattern/],
  ];
  for (const [name, body, message] of cases) {
    t.test(name, async (t) => {
      t.throws(() => fromDsl(body, events), { name: 'StoreError', kind: 'invalid', message });
    });
  }
  t.test('deep nesting is bounded', async (t) => {
    let query: unknown = { match_all: {} };
    for (let i = 0; i < 40; i++) query = { bool: { must: [query] } };
    t.throws(() => fromDsl({ query }, events), { kind: 'invalid', message: /queries nest at most 30 deep/ });
  });
  t.test('the URL page wins over the body and obeys the window', async (t) => {
    t.match(fromDsl({ size: 5, from: 5 }, events, { size: 0, from: 0 }).request, { offset: 0, limit: 0 });
    t.throws(() => fromDsl({}, events, { size: 100_000 }), { kind: 'invalid', message: /above the maximum of 10000/ });
    t.throws(() => fromDsl({ size: 'all' }, events, { size: 5 }), { kind: 'invalid', message: /^size: expected an integer/ });
  });
});

t.test('responses: the Elasticsearch envelope, hits and rebuilt aggregations', async (t) => {
  const search: DslSearch = fromDsl(
    {
      sort: [{ timestamp: 'desc' }],
      _source: ['uuid', 'error.*'],
      aggs: {
        states: { terms: { field: 'state' }, aggs: { none: { avg: { field: 'nope' } } } },
        na: { terms: { field: 'nope', missing: 'N/A' }, aggs: { rt: { avg: { field: 'runtime' } } } },
        none: { terms: { field: 'nope', missing: 'N/A', min_doc_count: 5 } },
        fs: { filters: { filters: [match('state', 'FAILED')] }, aggs: { rt: { sum: { field: 'runtime' } } } },
      },
    },
    events,
  );
  const result: SearchResult = {
    total: 3,
    hits: [{ id: 'u1', uuid: 'u1', state: 'FAILED', error: { type: 'E', message: 'm' }, runtime: 1 }],
    aggregations: {
      states: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'FAILED', doc_count: 3 }] },
      na: { doc_count: 3, rt: { value: 2 } },
      none: { doc_count: 3 },
      fs: { doc_count: 3, b0: { doc_count: 2, rt: { value: 4 } } },
    },
  };
  const response = dslResponse(search, result, { index: 'acme_io-billing', took: 4 });
  t.same(response, {
    took: 4,
    timed_out: false,
    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
    hits: {
      total: { value: 3, relation: 'eq' },
      max_score: null,
      hits: [{ _index: 'acme_io-billing', _id: 'u1', _score: null, _source: { uuid: 'u1', error: { type: 'E', message: 'm' } } }],
    },
    aggregations: {
      states: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 0,
        buckets: [{ key: 'FAILED', doc_count: 3, none: { value: null } }],
      },
      na: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'N/A', doc_count: 3, rt: { value: 2 } }] },
      none: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] },
      fs: { buckets: [{ doc_count: 2, rt: { value: 4 } }] },
    },
  });
  const unsorted = dslResponse(fromDsl({ _source: false }, events), { total: 1, hits: [{ id: 'w' }] }, { index: 'i', took: 0 });
  t.same(unsorted.hits, { total: { value: 1, relation: 'eq' }, max_score: 1, hits: [{ _index: 'i', _id: 'w', _score: 1 }] });
  t.notOk('aggregations' in unsorted, 'no aggregations key without aggs');
});

t.test('aggregation names that are not identifiers keep their name in the response', async (t) => {
  const search = fromDsl(
    {
      aggs: {
        'seen.tasks': { terms: { field: 'name', order: { 'last-seen': 'desc' } }, aggs: { 'last-seen': { max: { field: 'timestamp' } } } },
        _agg0: { avg: { field: 'runtime' } },
      },
    },
    events,
  );
  t.same(search.request.aggs, {
    _agg1: { terms: { field: 'name', size: 10, order: { _agg0: 'desc' } }, aggs: { _agg0: { max: { field: 'timestamp' } } } },
    _agg0: { avg: { field: 'runtime' } },
  });
  const response = dslResponse(
    search,
    {
      total: 1,
      hits: [],
      aggregations: {
        _agg1: { buckets: [{ key: 'a', doc_count: 1, _agg0: { value: 5 } }] },
        _agg0: { value: 2 },
      },
    },
    { index: 'i', took: 0 },
  );
  t.same(response.aggregations, {
    'seen.tasks': { buckets: [{ key: 'a', doc_count: 1, _agg0: { value: 5 }, 'last-seen': { value: 5 } }] },
    _agg0: { value: 2 },
  });
});

t.test('source filtering follows Elasticsearch includes and excludes', async (t) => {
  const doc = {
    uuid: 'u',
    name: 'n',
    error: { type: 'E', message: 'm' },
    name_parts: { module: 'a', function: 'b' },
    queued_at: 1,
    started_at: 2,
  };
  t.same(filterSource(doc, { enabled: true, includes: ['*_at'], excludes: [] }), { queued_at: 1, started_at: 2 });
  t.same(filterSource(doc, { enabled: true, includes: ['name_parts.function', 'uuid'], excludes: [] }), {
    uuid: 'u',
    name_parts: { function: 'b' },
  });
  t.same(filterSource(doc, { enabled: true, includes: ['error'], excludes: ['error.message'] }), { error: { type: 'E' } });
  t.same(filterSource(doc, { enabled: true, includes: [], excludes: ['name*', 'error'] }), { uuid: 'u', queued_at: 1, started_at: 2 });
});

t.test('uuid is an id alias: equality queries use the primary key, exists and aggregations read the field', async (t) => {
  t.same(fromDsl({ query: { term: { uuid: 'u1' } } }, events).request.query, term('id', 'u1'));
  t.same(fromDsl({ query: { terms: { uuid: ['u1', 'u2'] } } }, events).request.query, { terms: { field: 'id', values: ['u1', 'u2'] } });
  t.same(fromDsl({ query: { exists: { field: 'uuid' } } }, events).request.query, { exists: { field: 'uuid' } });
  const aggs = fromDsl({ size: 0, aggs: { tasks: { cardinality: { field: 'uuid' } } } }, events).request.aggs;
  t.same(aggs, { tasks: { cardinality: { field: 'uuid' } } });
});
