// Who may search what, and bad requests (leek-management-and-search §1, §5, §9): credentials, the app and env
// headers, another org's apps, the URL page, and bodies outside the DSL subset — each with its status and code.
import { storeApiKey } from '@shallot/core/testing';
import { LEEK_APPLICATIONS, leekScope } from '@shallot/schemas';
import t from 'tap';
import { world } from './fixtures/world.js';

const w = await world(t);
const ALL = { query: { match_all: {} } };

const error = (res: { statusCode: number; json(): { error?: { code?: number } } }) => [res.statusCode, res.json().error?.code];

t.test('credentials: none, or an API key without an org → 401 401003', async (t) => {
  t.same(error(await w.search(ALL, { who: { headers: {} } })), [401, 401003]);
  const { key } = await storeApiKey(w.ctx.store, { title: 'no org' });
  t.same(error(await w.search(ALL, { who: { headers: { 'x-api-key': key } } })), [401, 401003]);
  t.same(error(await w.search(ALL, { who: { headers: { 'x-api-key': 'wrong' } } })), [401, 401003]);
});

t.test('x-leek-app-name: missing → 400001, not lower-case letters → 400002 (never reaches a scope)', async (t) => {
  const missing = await w.search(ALL, { app: null });
  t.same(error(missing), [400, 400001]);
  t.same(missing.json().error.message, 'Required header missing');
  for (const name of ['Billing', 'bill-ing', 'billing,other', 'billing*', '../billing', 'a'.repeat(40)]) {
    t.same(error(await w.search(ALL, { app: name })), [400, 400002], name);
  }
  t.same(error(await w.search(ALL, { app: 'Billing', path: '/v1/search/summary' })), [400, 400002]);
});

t.test('x-leek-app-env is validated when sent', async (t) => {
  t.same(error(await w.search(ALL, { headers: { 'x-leek-app-env': 'prod;drop' } })), [400, 400002]);
  t.equal((await w.search(ALL, { headers: { 'x-leek-app-env': 'prod' } })).statusCode, 200);
});

t.test('an app the caller’s org does not have → 404 404001, even when another org has it', async (t) => {
  await w.ctx.store.collections.create(LEEK_APPLICATIONS, {
    id: leekScope('acme.io', 'ledger'),
    org: 'acme.io',
    app_name: 'ledger',
    app_description: 'only acme',
    app_key: 'app-x',
    owner: 'o@acme.io',
    created_at: Date.now(),
    fo_triggers: [],
  });
  t.equal((await w.search(ALL, { app: 'ledger' })).statusCode, 200, 'acme.io reads its ledger');
  const refused = await w.search(ALL, { app: 'ledger', who: w.beta });
  t.same(error(refused), [404, 404001]);
  t.same(error(await w.search(ALL, { app: 'ledger', who: w.beta, path: '/v1/search/summary' })), [404, 404001]);
  t.same(error(await w.search(ALL, { app: 'nothing' })), [404, 404001]);
});

t.test('the URL page: only size and from_, integers 0–100000, within the 10000 window', async (t) => {
  t.equal((await w.search(ALL, { query: 'size=10000&from_=0' })).statusCode, 200);
  for (const query of [
    'foo=1',
    'size=abc',
    'size=-1',
    'size=1.5',
    'from=3',
    'size=100001',
    'size=1&size=2',
    'size=10000&from_=1',
    'from_=100000',
  ]) {
    const res = await w.search(ALL, { query });
    t.same(error(res), [400, 400002], query);
  }
});

t.test('bodies outside the subset → 400 400002 naming the clause', async (t) => {
  const cases: Array<[unknown, string]> = [
    [
      { query: { bool: { must: [{ match: { kind: 'task' } }, { geo_distance: { distance: '1km' } }] } } },
      'unsupported query clause: query.bool.must[1].geo_distance',
    ],
    [{ query: { script: { script: { source: 'true' } } } }, 'unsupported query clause: query.script'],
    [
      { aggs: { a: { terms: { field: 'state' }, aggs: { b: { scripted_metric: {} } } } } },
      'unsupported query clause: aggs.a.aggs.b.scripted_metric',
    ],
    [{ runtime_mappings: { x: { type: 'keyword', script: 'emit(1)' } } }, 'unsupported query clause: runtime_mappings'],
    [{ index: 'acme_io-other', query: { match_all: {} } }, 'unsupported query clause: index'],
    [{ aggs: { a: { terms: { field: 'state', size: 0 } } } }, 'aggs.a.terms.size: expected at least 1'],
  ];
  for (const [body, reason] of cases) {
    const res = await w.search(body);
    t.same(error(res), [400, 400002], reason);
    t.equal(res.json().error.reason, reason);
  }
  const notObject = await w.search([{ match_all: {} }]);
  t.same(error(notObject), [400, 400002], 'an array body');
});

t.test('a store error mid-search is not a partial answer: invalid values of a field type are 400', async (t) => {
  const res = await w.search({ query: { range: { timestamp: { gte: 'yesterday' } } } });
  t.same(error(res), [400, 400002]);
  t.match(res.json().error.reason, /timestamp/);
  const term = await w.search({ query: { term: { runtime: 'fast' } } });
  t.same(error(term), [400, 400002]);
});
