// POST /v1/search: every request shape of the web client's catalogue (leek-management-and-search §7.1, §7.2) over
// data ingested through /v1/events/process, checked number by number in Elasticsearch response shape.
import t from 'tap';
import { BASE, T, UPDATE_LAG, at, world } from './fixtures/world.js';

const match = (field: string, value: string | boolean) => ({ match: { [field]: value } });
const tasksOf = (env: string) => [match('kind', 'task'), match('app_env', env)];
const ids = (body: { hits: { hits: Array<{ _id: string }> } }) => body.hits.hits.map((h) => h._id);
const buckets = (agg: unknown) => (agg as { buckets: Array<{ key: unknown; doc_count: number }> }).buckets.map((b) => [b.key, b.doc_count]);
const terms = (list: Array<Record<string, unknown>>, sumOther = 0) => ({
  doc_count_error_upper_bound: 0,
  sum_other_doc_count: sumOther,
  buckets: list,
});

const w = await world(t);

t.test('task list: filters in bool.must, sort by timestamp, pages from the URL', async (t) => {
  const body = { query: { bool: { must: tasksOf('prod') } }, sort: [{ timestamp: { order: 'desc' } }] };
  const first = await w.search(body, { query: 'size=3&from_=0' });
  t.equal(first.statusCode, 200);
  const page1 = first.json();
  t.same(page1.hits.total, { value: 9, relation: 'eq' });
  t.same(ids(page1), [T.unnamed9, T.receipt8, T.report7], 'newest first');
  t.match(page1.hits.hits[0], {
    _index: 'acme_io-billing',
    _id: T.unnamed9,
    _score: null,
    _source: { uuid: T.unnamed9, state: 'STARTED' },
  });
  t.equal(page1.timed_out, false);
  t.type(page1.took, 'number');
  const page2 = (await w.search(body, { query: 'size=3&from_=3' })).json();
  t.same(ids(page2), [T.report6, T.receipt5, T.receipt4]);
  const asc = (await w.search({ ...body, sort: [{ timestamp: { order: 'asc' } }] }, { query: 'size=2&from_=0' })).json();
  t.same(ids(asc), [T.charge1, T.charge2]);
  const noUrlPage = (await w.search({ ...body, size: 5 })).json();
  t.same(noUrlPage.hits, { total: { value: 9, relation: 'eq' }, max_score: null, hits: [] }, 'without URL size there are no hits (§5)');
});

t.test('task list: each filter of §7.2 through HTTP', async (t) => {
  const cases: Array<[string, unknown[], unknown[], string[]]> = [
    ['names', [{ terms: { name: ['billing.tasks.charge_invoice'] } }], [], [T.charge1, T.charge2, T.charge3]],
    [
      'module and function',
      [{ terms: { 'name_parts.module': ['mail.tasks'] } }, { terms: { 'name_parts.function': ['send_receipt'] } }],
      [],
      [T.receipt4, T.receipt5, T.receipt8],
    ],
    ['uuid', [match('uuid', T.charge2)], [], [T.charge2]],
    ['states', [{ terms: { state: ['FAILED', 'CRITICAL'] } }], [], [T.charge3, T.receipt4]],
    ['workers', [{ terms: { worker: ['celery@w-a'] } }], [], [T.charge1, T.charge3, T.receipt8]],
    ['client', [{ term: { client: 'web-1' } }], [], [T.charge1, T.charge2, T.charge3, T.receipt5, T.report6, T.report7, T.receipt8]],
    ['queues', [{ terms: { queue: ['mail', 'reports'] } }], [], [T.receipt5, T.report6, T.report7, T.receipt8]],
    ['routing keys and exchanges', [{ terms: { routing_key: ['mail'] } }, { terms: { exchange: [''] } }], [], [T.receipt5, T.receipt8]],
    ['queue N/A: must_not exists', [], [{ exists: { field: 'queue' } }], [T.receipt4, T.unnamed9]],
    ['N/A with a real queue matches nothing', [{ terms: { queue: ['mail'] } }], [{ exists: { field: 'queue' } }], []],
    ['parent (a field that does not exist) matches nothing', [match('parent', T.charge1)], [], []],
    ['runtime gte', [{ range: { runtime: { gte: 2 } } }], [], [T.charge1, T.charge2]],
    ['runtime lte', [{ range: { runtime: { lte: 2 } } }], [], [T.charge1, T.receipt5]],
    ['retries gte', [{ range: { retries: { gte: 1 } } }], [], [T.receipt4]],
    ['error types', [{ terms: { 'error.type': ['smtplib.SMTPServerDisconnected'] } }], [], [T.receipt4]],
    ['error message: the whole message', [{ term: { 'error.message': 'insufficient funds' } }], [], [T.charge3]],
    ['error message: a word of it is no match (exact, as the contract asks)', [{ term: { 'error.message': 'insufficient' } }], [], []],
    [
      'stack trace contains, any case',
      [{ wildcard: { 'trace.wc': { value: '*carddeclined*', case_insensitive: true } } }],
      [],
      [T.charge3],
    ],
    ['args pattern, any case', [{ wildcard: { args: { value: "(13, 'eur*", case_insensitive: true } } }], [], [T.charge3]],
    [
      'kwargs pattern',
      [{ wildcard: { kwargs: { value: '{}', case_insensitive: true } } }],
      [],
      [T.charge1, T.charge2, T.charge3, T.receipt4, T.receipt5, T.report6, T.report7, T.receipt8],
    ],
    ['result pattern', [{ wildcard: { result: { value: "{'OK'*", case_insensitive: true } } }], [], [T.charge1, T.charge2, T.receipt5]],
    ['root id', [match('root_id', T.charge1)], [], [T.receipt5, T.report6, T.report7]],
    ['parent id', [match('parent_id', T.charge1)], [], [T.receipt5, T.report7]],
    ['revocation: terminated', [{ match: { terminated: { query: true } } }], [], [T.report7]],
    ['revocation: expired', [{ match: { expired: { query: true } } }], [], []],
    ['rejection: ignored (requeue false)', [{ match: { requeue: { query: false } } }], [], [T.receipt8]],
    ['positional arg', [{ term: { args_1: 'EUR' } }], [], [T.charge1, T.charge3]],
    ['kwarg key', [{ term: { 'kwargs_flattened.meta.source': 'api' } }], [], [T.charge1]],
    ['kwarg boolean, as a string', [{ term: { 'kwargs_flattened.notify': 'false' } }], [], [T.charge2]],
    ['time between', [{ range: { timestamp: { gte: at(1), lte: at(4) } } }], [], [T.charge2, T.charge3, T.receipt4]],
    ['time between on queued_at', [{ range: { queued_at: { gte: at(4), lte: at(6) } } }], [], [T.receipt5, T.report6, T.report7]],
    ['time past (data is from 2024)', [{ range: { timestamp: { gte: Date.now() - 900_000 } } }], [], []],
    ['time on sent_at (does not exist)', [{ range: { sent_at: { gte: 0 } } }], [], []],
  ];
  for (const [name, must, mustNot, expected] of cases) {
    t.test(name, async (t) => {
      const res = await w.search(
        { query: { bool: { must: [...tasksOf('prod'), ...must], must_not: mustNot } }, sort: [{ timestamp: { order: 'asc' } }] },
        { query: 'size=50&from_=0' },
      );
      t.equal(res.statusCode, 200);
      const body = res.json();
      t.same(ids(body), expected);
      t.equal(body.hits.total.value, expected.length);
    });
  }
});

t.test('task by id and worker by id: term on _id', async (t) => {
  const task = (await w.search({ query: { term: { _id: T.charge3 } } }, { query: 'size=1&from_=0' })).json();
  t.equal(task.hits.total.value, 1);
  t.match(task.hits.hits[0], {
    _id: T.charge3,
    _source: { state: 'FAILED', error: { type: 'billing.errors.CardDeclined' }, exception: "CardDeclined('insufficient funds')" },
  });
  const worker = (await w.search({ query: { term: { _id: 'celery@w-b' } } }, { query: 'size=1' })).json();
  t.match(worker.hits.hits, [{ _id: 'celery@w-b', _source: { kind: 'worker', state: 'OFFLINE', offline_at: at(8), online_at: at(0) } }]);
  const none = (await w.search({ query: { term: { _id: 'nope' } } }, { query: 'size=1' })).json();
  t.same(none.hits.hits, []);
});

t.test('worker list: kind, env, state, hostname', async (t) => {
  const list = async (must: unknown[]) => ids((await w.search({ query: { bool: { must } } }, { query: 'size=10&from_=0' })).json()).sort();
  t.same(await list([match('kind', 'worker'), match('app_env', 'prod')]), ['celery@w-a', 'celery@w-b']);
  t.same(await list([match('kind', 'worker')]), ['celery@w-a', 'celery@w-b', 'celery@w-s']);
  t.same(await list([match('kind', 'worker'), match('app_env', 'prod'), match('state', 'HEARTBEAT')]), ['celery@w-a']);
  t.same(await list([match('kind', 'worker'), match('hostname', 'celery@w-s')]), ['celery@w-s']);
});

t.test('monitor charts: states, queues, per-task states and average runtime, auto_date_histogram', async (t) => {
  const res = await w.search(
    {
      query: { bool: { must: tasksOf('prod') } },
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
    { query: 'size=0&from_=0' },
  );
  t.equal(res.statusCode, 200);
  const { aggregations: aggs, hits } = res.json();
  t.same(hits.hits, []);
  t.equal(hits.total.value, 9);
  t.same(
    aggs.statesDistribution,
    terms([
      { key: 'SUCCEEDED', doc_count: 3 },
      { key: 'STARTED', doc_count: 2 },
      { key: 'CRITICAL', doc_count: 1 },
      { key: 'FAILED', doc_count: 1 },
      { key: 'REJECTED', doc_count: 1 },
      { key: 'REVOKED', doc_count: 1 },
    ]),
  );
  t.same(
    aggs.queuesDistribution,
    terms([
      { key: 'billing', doc_count: 3 },
      { key: 'mail', doc_count: 2 },
      { key: 'reports', doc_count: 2 },
    ]),
  );
  t.same(
    aggs.tasksDistribution,
    terms([
      {
        key: 'billing.tasks.charge_invoice',
        doc_count: 3,
        statesDistribution: terms([
          { key: 'SUCCEEDED', doc_count: 2 },
          { key: 'FAILED', doc_count: 1 },
        ]),
        runtimeDistribution: { value: 3 },
      },
      {
        key: 'mail.tasks.send_receipt',
        doc_count: 3,
        statesDistribution: terms([
          { key: 'CRITICAL', doc_count: 1 },
          { key: 'REJECTED', doc_count: 1 },
          { key: 'SUCCEEDED', doc_count: 1 },
        ]),
        runtimeDistribution: { value: 0.5 },
      },
      {
        key: 'reports.tasks.build_report',
        doc_count: 2,
        statesDistribution: terms([
          { key: 'REVOKED', doc_count: 1 },
          { key: 'STARTED', doc_count: 1 },
        ]),
        runtimeDistribution: { value: null },
      },
    ]),
  );
  // Final timestamps span +0:03 … +8:00: 30 s buckets from the first second (16 buckets ≤ 30).
  const filled = new Map([
    [0, 1],
    [2, 1],
    [4, 1],
    [5, 1],
    [8, 1],
    [9, 1],
    [11, 1],
    [13, 1],
    [15, 1],
  ]);
  t.equal(aggs.timeDistribution.interval, '30s');
  t.same(
    aggs.timeDistribution.buckets,
    Array.from({ length: 16 }, (_, i) => {
      const key = at(0, 3 + 30 * i);
      return { key, key_as_string: new Date(key).toISOString(), doc_count: filled.get(i) ?? 0 };
    }),
  );
});

t.test('queues page and issues page', async (t) => {
  const queues = (
    await w.search(
      {
        query: { bool: { must: [match('app_env', 'prod')] } },
        aggs: { queues: { terms: { field: 'queue', size: 100 }, aggs: { state: { terms: { field: 'state' } } } } },
      },
      { query: 'size=0' },
    )
  ).json().aggregations.queues;
  t.same(
    queues.buckets.map((b: { key: string; doc_count: number; state: unknown }) => [b.key, b.doc_count, buckets(b.state)]),
    [
      [
        'billing',
        3,
        [
          ['SUCCEEDED', 2],
          ['FAILED', 1],
        ],
      ],
      [
        'mail',
        2,
        [
          ['REJECTED', 1],
          ['SUCCEEDED', 1],
        ],
      ],
      [
        'reports',
        2,
        [
          ['REVOKED', 1],
          ['STARTED', 1],
        ],
      ],
    ],
  );
  const issues = (
    await w.search(
      {
        query: { bool: { must: [{ range: { timestamp: { gte: BASE, lte: at(10) } } }, match('app_env', 'prod')] } },
        aggs: { exceptions: { terms: { field: 'exception.keyword' }, aggs: { state: { terms: { field: 'state' } } } } },
      },
      { query: 'size=0' },
    )
  ).json().aggregations.exceptions;
  t.same(
    issues.buckets.map((b: { key: string; doc_count: number; state: unknown }) => [b.key, b.doc_count, buckets(b.state)]),
    [
      ["CardDeclined('insufficient funds')", 1, [['FAILED', 1]]],
      ['SMTPServerDisconnected()', 1, [['CRITICAL', 1]]],
    ],
    'the CRITICAL task shows its final exception, not the retry’s',
  );
});

t.test('dashboard metrics: tasks and workers of one environment together', async (t) => {
  const res = await w.search(
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
    { query: 'size=0' },
  );
  const aggs = res.json().aggregations;
  t.same(buckets(aggs.seen_tasks), [
    ['billing.tasks.charge_invoice', 3],
    ['mail.tasks.send_receipt', 3],
    ['reports.tasks.build_report', 2],
  ]);
  t.same(buckets(aggs.seen_workers), [
    ['celery@w-a', 1],
    ['celery@w-b', 1],
  ]);
  t.same(buckets(aggs.seen_states), [
    ['SUCCEEDED', 3],
    ['STARTED', 2],
    ['CRITICAL', 1],
    ['FAILED', 1],
    ['HEARTBEAT', 1],
    ['OFFLINE', 1],
    ['REJECTED', 1],
    ['REVOKED', 1],
  ]);
  t.same(buckets(aggs.seen_routing_keys), buckets(aggs.seen_queues));
  t.same(
    aggs.events,
    terms([
      { key: 'task', doc_count: 9, processed: { value: 4 + 4 + 4 + 3 + 4 + 3 + 2 + 3 + 1 } },
      { key: 'worker', doc_count: 2, processed: { value: 4 } },
    ]),
  );
});

t.test('seen task names: N/A bucket and zero-count names of other environments', async (t) => {
  const aggs = (
    await w.search(
      {
        query: { bool: { must: [match('app_env', 'prod')] } },
        aggs: { seen_tasks: { terms: { field: 'name', size: 1000, missing: 'N/A', min_doc_count: 0 } } },
      },
      { query: 'size=0' },
    )
  ).json().aggregations;
  t.same(
    buckets(aggs.seen_tasks),
    [
      ['N/A', 3],
      ['billing.tasks.charge_invoice', 3],
      ['mail.tasks.send_receipt', 3],
      ['reports.tasks.build_report', 2],
      ['billing.tasks.refund', 0],
    ],
    'the unnamed task and both workers are N/A; refund exists only in staging',
  );
  t.equal(aggs.seen_tasks.sum_other_doc_count, 0);
});

t.test('seen workers: time range on workers of one environment', async (t) => {
  const seen = async (gte: number) =>
    buckets(
      (
        await w.search(
          {
            query: { bool: { must: [{ range: { timestamp: { gte, lte: at(10) } } }, match('kind', 'worker'), match('app_env', 'prod')] } },
            aggs: { seen_workers: { terms: { field: 'hostname', size: 1000 } } },
          },
          { query: 'size=0' },
        )
      ).json().aggregations.seen_workers,
    );
  t.same(await seen(BASE), [
    ['celery@w-a', 1],
    ['celery@w-b', 1],
  ]);
  t.same(await seen(at(6)), [['celery@w-b', 1]], 'w-a was last seen at +5 min');
});

t.test('defined-but-unused calls: wildcard on name, seen queues with N/A and zero counts', async (t) => {
  const filtered = (
    await w.search(
      {
        query: { bool: { must: [{ wildcard: { name: { value: 'MAIL*', case_insensitive: true } } }] } },
        aggs: { seen_tasks: { terms: { field: 'name', size: 1000, missing: 'N/A', min_doc_count: 1 } } },
      },
      { query: 'size=0' },
    )
  ).json().aggregations;
  t.same(buckets(filtered.seen_tasks), [['mail.tasks.send_receipt', 3]]);
  const queues = (
    await w.search({ aggs: { q: { terms: { field: 'queue', size: 100, missing: 'N/A', min_doc_count: 0 } } } }, { query: 'size=0' })
  ).json().aggregations;
  t.same(
    buckets(queues.q),
    [
      ['N/A', 5],
      ['billing', 5],
      ['mail', 2],
      ['reports', 2],
    ],
    'every environment: 2 tasks and 3 workers without a queue',
  );
  const cut = (await w.search({ aggs: { q: { terms: { field: 'queue', size: 2 } } } }, { query: 'size=0' })).json().aggregations;
  t.same(
    cut.q,
    terms(
      [
        { key: 'billing', doc_count: 5 },
        { key: 'mail', doc_count: 2 },
      ],
      2,
    ),
    'sum_other_doc_count counts the rest',
  );
});

t.test('last seen metrics and dates in buckets', async (t) => {
  const res = (
    await w.search(
      {
        query: { bool: { must: tasksOf('prod') } },
        aggs: {
          latest: { max: { field: 'updated_at' } },
          sum: { sum: { field: 'runtime' } },
          none: { avg: { field: 'runtime' } },
          by_day: { date_histogram: { field: 'timestamp', calendar_interval: 'day' } },
        },
      },
      { query: 'size=0' },
    )
  ).json().aggregations;
  t.same(res.latest, { value: at(8) + UPDATE_LAG, value_as_string: new Date(at(8) + UPDATE_LAG).toISOString() });
  t.same(res.sum, { value: 6.5 });
  t.same(res.none, { value: 6.5 / 3 });
  t.same(res.by_day.buckets, [{ key: Date.UTC(2024, 5, 10), key_as_string: '2024-06-10T00:00:00.000Z', doc_count: 9 }]);
});

t.test('_source filtering', async (t) => {
  const res = (await w.search({ query: { term: { _id: T.charge1 } }, _source: ['uuid', 'name_parts.*'] }, { query: 'size=1' })).json();
  t.same(res.hits.hits[0]._source, { uuid: T.charge1, name_parts: { module: 'billing.tasks', function: 'charge_invoice' } });
});

t.test('a session user of the org searches like an API key of the org', async (t) => {
  const body = { query: { bool: { must: tasksOf('staging') } }, sort: [{ timestamp: 'asc' }] };
  const byKey = (await w.search(body, { query: 'size=5' })).json();
  const bySession = (await w.search(body, { who: w.acmeUser, query: 'size=5' })).json();
  t.same(ids(bySession), [T.stagingCharge, T.stagingRefund]);
  t.same(bySession.hits, byKey.hits);
});

t.test('another org’s application of the same name is another index', async (t) => {
  const body = { aggs: { names: { terms: { field: 'name' } }, rt: { max: { field: 'runtime' } } } };
  const beta = (await w.search(body, { who: w.beta, query: 'size=0' })).json();
  t.same(buckets(beta.aggregations.names), [['decoy.tasks.leak', 10]], '11 decoys, one only seen STARTED (no name)');
  t.equal(beta.aggregations.rt.value, 99);
  const acme = (await w.search(body, { query: 'size=0' })).json();
  t.notOk(buckets(acme.aggregations.names).some(([key]) => key === 'decoy.tasks.leak'));
  t.equal(acme.aggregations.rt.value, 4);
});
