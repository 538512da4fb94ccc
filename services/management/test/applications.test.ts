// /v1/applications*: task-monitor applications, their triggers, admins and dead letters (leek-management-and-search
// §1–§4): every rule with its denials — another org's user, a non-owner, a non-admin, no credentials.
import { LeekError, USERS, createWebhookGuard, hashPassword, userKey } from '@shallot/core';
import { storeApiKey, webHookReceiver } from '@shallot/core/testing';
import { LEEK_APPLICATIONS, leekScope } from '@shallot/schemas';
import { LEEK_DEAD_LETTERS_INDEX, LEEK_EVENTS_INDEX, LEEK_SUMMARY_INDEX } from '@shallot/store';
import type { InjectOptions } from 'fastify';
import t, { type Test } from 'tap';
import { verifyTriggerWebhook } from '../src/leek/webhook-check.js';
import { type Harness, harness } from './helpers.js';

/** Slack's stand-in: triggers are verified by a message to their web hook before they are saved. */
const slack = await webHookReceiver(t);
const SLACK_PATH = '/services/T0/B0/XYZ';
const TRIGGER = { enabled: true, type: 'slack', slack_wh_url: slack.url(SLACK_PATH) };

/** Hashed once: scrypt is slow on purpose, and every test makes several users. */
const PASSWORD_HASH = hashPassword('user-password-1');

interface Who {
  headers: Record<string, string>;
  email: string;
}

async function user(h: Harness, username: string, email: string): Promise<Who> {
  await h.ctx.store.collections.create(USERS, {
    id: userKey(username),
    username,
    full_name: username,
    email,
    // Orgs derive from the administrator-confirmed address (users/emails.ts).
    verified_email: email.toLowerCase(),
    active: true,
    password: await PASSWORD_HASH,
    privileges: {},
    roles: [],
    categories: [],
    groups: [],
  });
  // A session issued directly (login itself is session.test.ts's subject): spares a scrypt per user.
  const session = await h.app.sessions.issue(username);
  return { headers: { 'x-session-id': session.token }, email };
}

async function apiKey(h: Harness, fields: Record<string, unknown>): Promise<Record<string, string>> {
  const { key } = await storeApiKey(h.ctx.store, { title: 'Leek key', ...fields });
  return { 'x-api-key': key };
}

/** The answers of these endpoints, loosely: every field one of them may carry (arrays and strings are asked for). */
interface Answer {
  error?: { code: number; message: string; reason: string };
  org?: string;
  app_name?: string;
  app_key?: string;
  app_description?: string;
  owner?: string;
  created_at?: number;
  fo_triggers?: Array<{ id: string } & Record<string, unknown>>;
  admins?: Array<{ user: string; email: string; since: number }>;
  task?: string;
  deleted?: number;
  total?: number;
  dead_letters?: Array<{ id: string; document: unknown }>;
}

interface Partition {
  name: string;
  primaries: { docs: { count: number }; store: { size_in_bytes: number }; indexing: { index_total: number } };
}

interface Reply<T> {
  status: number;
  body: T;
}

interface World {
  h: Harness;
  owner: Who;
  colleague: Who;
  stranger: Who;
  call<T = Answer>(who: Who | undefined, options: InjectOptions & { app?: string }): Promise<Reply<T>>;
  createApp(who: Who, name: string): Promise<Answer>;
}

/** Web hooks may reach the loopback receiver unless `overrides` say otherwise. */
async function world(t: Test, overrides: Parameters<typeof harness>[1] = {}): Promise<World> {
  const h = await harness(t, { webhookAllow: '127.0.0.1', ...overrides });
  const owner = await user(h, 'olivia', 'olivia@acme.io');
  const colleague = await user(h, 'carl', 'Carl@acme.io');
  const stranger = await user(h, 'sam', 'sam@beta.io');
  const call = async <T = Answer>(who: Who | undefined, { app, ...options }: InjectOptions & { app?: string }): Promise<Reply<T>> => {
    const headers: Record<string, string> = { ...(who?.headers ?? {}), ...((options.headers as Record<string, string>) ?? {}) };
    if (app !== undefined) headers['x-leek-app-name'] = app;
    const res = await h.app.inject({ ...options, headers });
    return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as T };
  };
  const createApp = async (who: Who, name: string) => {
    const res = await call(who, { method: 'POST', url: '/v1/applications', payload: { app_name: name, app_description: `${name} app` } });
    if (res.status !== 201) throw new Error(`create ${name}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return { h, owner, colleague, stranger, call, createApp };
}

const errorCode = (res: { body: unknown }) => (res.body as Answer | undefined)?.error?.code;

t.test('create: 201 with a generated key, owned by the caller’s user id, in the org of their verified e-mail', async (t) => {
  const { h, owner, call } = await world(t);
  const res = await call(owner, {
    method: 'POST',
    url: '/v1/applications',
    payload: { app_name: 'billing', app_description: 'Invoices', number_of_shards: '2', number_of_replicas: 1, fo_triggers: [] },
  });
  t.equal(res.status, 201);
  t.match(res.body.app_key, /^app-[A-Za-z0-9]{48}$/);
  t.same(
    { ...res.body, app_key: undefined, created_at: undefined },
    {
      org: 'acme.io',
      app_name: 'billing',
      app_description: 'Invoices',
      owner: 'olivia',
      fo_triggers: [],
      app_key: undefined,
      created_at: undefined,
    },
  );
  t.ok(Math.abs((res.body.created_at ?? 0) - Date.now()) < 60_000, 'created_at in ms');
  const stored = await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing'));
  t.equal(stored?.app_key, res.body.app_key);
  t.notOk(stored && 'number_of_shards' in stored, 'shards and replicas are not stored');
  const second = await call(owner, { method: 'POST', url: '/v1/applications/', payload: { app_name: 'audit', app_description: 'x' } });
  t.equal(second.status, 201, 'trailing slash optional');
  t.not(second.body.app_key, res.body.app_key, 'every app gets its own key');
});

t.test('create: validation exactly as spec §3 (400 400002), nothing created', async (t) => {
  const { h, owner, call } = await world(t);
  const good = { app_name: 'billing', app_description: 'Invoices' };
  const bad: Array<Record<string, unknown>> = [
    { app_description: 'x' },
    { app_name: 'billing' },
    { ...good, app_name: 'Billing' },
    { ...good, app_name: 'bill1' },
    { ...good, app_name: 'bill-ing' },
    { ...good, app_name: 'bill,ing' },
    { ...good, app_name: '' },
    { ...good, app_name: 'a'.repeat(33) },
    { ...good, app_description: '' },
    { ...good, number_of_shards: 0 },
    { ...good, number_of_shards: 11 },
    { ...good, number_of_shards: 'many' },
    { ...good, number_of_replicas: 2 },
    { ...good, fo_triggers: [{ type: 'slack' }] },
    { ...good, owner: 'someone@else.io' },
    { ...good, app_key: 'app-chosen' },
  ];
  for (const payload of bad) {
    const res = await call(owner, { method: 'POST', url: '/v1/applications', payload });
    t.equal(res.status, 400, JSON.stringify(payload));
    t.equal(errorCode(res), 400002);
  }
  t.equal((await h.ctx.store.collections.list(LEEK_APPLICATIONS)).total, 0);
});

t.test('create: a taken name is 412 412001; names match exactly, not by prefix', async (t) => {
  const { owner, colleague, stranger, call, createApp } = await world(t);
  const first = await createApp(owner, 'billing');
  const again = await call(colleague, { method: 'POST', url: '/v1/applications', payload: { app_name: 'billing', app_description: 'x' } });
  t.equal(again.status, 412);
  t.equal(errorCode(again), 412001);
  t.ok(await createApp(owner, 'billingx'), 'billingx is another app');
  t.ok(await createApp(owner, 'bill'), 'so is bill');
  t.ok(await createApp(stranger, 'billing'), 'the same name in another org is fine');
  const list = await call<Answer[]>(owner, { method: 'GET', url: '/v1/applications' });
  t.equal(list.body.find((a) => a.app_name === 'billing')?.app_key, first.app_key, 'the first app is untouched');
});

t.test('list: the caller’s org only (acme does not see acme.io’s apps, nor beta.io)', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  t.same((await call(owner, { method: 'GET', url: '/v1/applications' })).body, [], 'empty list when none');
  await createApp(owner, 'billing');
  await createApp(stranger, 'audit');
  const prefixOrg = await user(h, 'pat', 'pat@acme');
  await createApp(prefixOrg, 'payroll');
  const seen = async (who: Who) =>
    (await call<Answer[]>(who, { method: 'GET', url: '/v1/applications' })).body.map((a) => `${a.org}/${a.app_name}`);
  t.same(await seen(colleague), ['acme.io/billing'], 'every member of the org sees the app');
  t.same(await seen(stranger), ['beta.io/audit']);
  t.same(await seen(prefixOrg), ['acme/payroll']);
});

t.test('who may call: no credentials, no org, a disallowed org → 401 401003', async (t) => {
  const { h, owner, call } = await world(t, { leekAllowedOrgs: 'acme.io, gamma.io' });
  const anonymous = await call(undefined, { method: 'GET', url: '/v1/applications' });
  t.equal(anonymous.status, 401);
  t.equal(errorCode(anonymous), 401003);
  const noEmail = await user(h, 'nomail', '');
  t.equal(errorCode(await call(noEmail, { method: 'GET', url: '/v1/applications' })), 401003);
  const outsider = await user(h, 'olga', 'olga@beta.io');
  const refused = await call(outsider, { method: 'POST', url: '/v1/applications', payload: { app_name: 'x', app_description: 'x' } });
  t.equal(refused.status, 401);
  t.equal(errorCode(refused), 401003);
  t.equal((await call(owner, { method: 'GET', url: '/v1/applications' })).status, 200, 'allowed org');
  const gmail = await user(h, 'jane', 'jane@gmail.com');
  t.equal(errorCode(await call(gmail, { method: 'GET', url: '/v1/applications' })), 401003, 'gmail users form org "jane"');
});

t.test('API keys: members of the org on their record; a key without one is refused', async (t) => {
  const { h, owner, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const withOrg = { headers: await apiKey(h, { org: 'acme.io' }), email: '' };
  const list = await call<Answer[]>(withOrg, { method: 'GET', url: '/v1/applications' });
  t.equal(list.status, 200);
  t.same(
    list.body.map((a) => a.app_name),
    ['billing'],
  );
  const denied = await call(withOrg, { method: 'DELETE', url: '/v1/applications', app: 'billing' });
  t.equal(errorCode(denied), 401002, 'a key is not the owner');
  const withoutOrg = { headers: await apiKey(h, {}), email: '' };
  const refused = await call(withoutOrg, { method: 'GET', url: '/v1/applications' });
  t.equal(refused.status, 401);
  t.equal(errorCode(refused), 401003);
  const badOrg = { headers: await apiKey(h, { org: 'acme.io,beta.io' }), email: '' };
  t.equal(errorCode(await call(badOrg, { method: 'GET', url: '/v1/applications' })), 401003);
});

async function seedData(h: Harness, scope: string): Promise<void> {
  const now = Date.now();
  await h.ctx.store.indexes.bulkUpsert(LEEK_EVENTS_INDEX, scope, [
    {
      id: 't-old',
      uuid: 't-old',
      kind: 'task',
      state: 'SUCCEEDED',
      timestamp: now - 3 * 3_600_000,
      exact_timestamp: 1,
      events: ['SUCCEEDED'],
      events_count: 1,
    },
    {
      id: 't-new',
      uuid: 't-new',
      kind: 'task',
      state: 'QUEUED',
      timestamp: now - 60_000,
      exact_timestamp: 2,
      events: ['QUEUED'],
      events_count: 1,
    },
    {
      id: 'w-old',
      hostname: 'w-old',
      kind: 'worker',
      state: 'ONLINE',
      timestamp: now - 3 * 3_600_000,
      exact_timestamp: 1,
      events_count: 1,
    },
  ]);
  await h.ctx.store.indexes.bulkUpsert(LEEK_DEAD_LETTERS_INDEX, scope, [
    { id: 'd1', index: 0, app_env: 'prod', reason: 'kind must be "task" or "worker"', received_at: now - 1000, document: { nope: 1 } },
    { id: 'd2', index: 1, app_env: 'prod', reason: '/state: Expected union value', received_at: now, document: { kind: 'task' } },
  ]);
  await h.ctx.store.indexes.bulkUpsert(LEEK_SUMMARY_INDEX, scope, [
    { id: 's1', app_env: 'prod', name: 'a.b', tasks: 2, states: { SUCCEEDED: 2 } },
  ]);
}

const counts = async (h: Harness, scope: string) => ({
  events: await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, scope),
  letters: await h.ctx.store.indexes.count(LEEK_DEAD_LETTERS_INDEX, scope),
  summary: await h.ctx.store.indexes.count(LEEK_SUMMARY_INDEX, scope),
});

t.test('delete: owner only; drops the app and all its data, not that of a prefix-named app', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  await createApp(owner, 'billingx');
  const scope = leekScope('acme.io', 'billing');
  const neighbour = leekScope('acme.io', 'billingx');
  await seedData(h, scope);
  await seedData(h, neighbour);

  const missing = await call(owner, { method: 'DELETE', url: '/v1/applications' });
  t.equal(missing.status, 400);
  t.equal(errorCode(missing), 400001);
  const malformed = await call(owner, { method: 'DELETE', url: '/v1/applications', app: 'bill*' });
  t.equal(errorCode(malformed), 400002);
  const member = await call(colleague, { method: 'DELETE', url: '/v1/applications', app: 'billing' });
  t.equal(member.status, 401);
  t.equal(errorCode(member), 401002, 'a member who is not the owner');
  const foreign = await call(stranger, { method: 'DELETE', url: '/v1/applications', app: 'billing' });
  t.equal(foreign.status, 404, 'another org has no such app');
  t.equal(errorCode(foreign), 404001);
  t.same(await counts(h, scope), { events: 3, letters: 2, summary: 1 }, 'denials change nothing');

  const done = await call(owner, { method: 'DELETE', url: '/v1/applications/', app: 'billing' });
  t.equal(done.status, 200);
  t.equal(done.body, 'Done');
  t.notOk(await h.ctx.store.collections.get(LEEK_APPLICATIONS, scope));
  t.same(await counts(h, scope), { events: 0, letters: 0, summary: 0 });
  t.same(await counts(h, neighbour), { events: 3, letters: 2, summary: 1 }, 'billingx keeps everything');
  t.equal(errorCode(await call(owner, { method: 'DELETE', url: '/v1/applications', app: 'billing' })), 404001, 'gone');
});

t.test('a new app never starts with data left by a deleted one of the same name', async (t) => {
  const { h, owner, createApp } = await world(t);
  const scope = leekScope('acme.io', 'billing');
  await seedData(h, scope); // as if a delete had failed after removing the record
  await createApp(owner, 'billing');
  t.same(await counts(h, scope), { events: 0, letters: 0, summary: 0 });
});

t.test('purge: admins; every task and worker document goes, the app, triggers, dead letters and summary stay', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const scope = leekScope('acme.io', 'billing');
  await seedData(h, scope);
  await call(owner, {
    method: 'POST',
    url: '/v1/applications/fo-triggers',
    app: 'billing',
    payload: TRIGGER,
  });

  t.equal(errorCode(await call(colleague, { method: 'DELETE', url: '/v1/applications/purge', app: 'billing' })), 401002, 'not an admin');
  t.equal(errorCode(await call(stranger, { method: 'DELETE', url: '/v1/applications/purge', app: 'billing' })), 404001);
  t.equal((await counts(h, scope)).events, 3);

  const granted = await call(owner, {
    method: 'POST',
    url: `/v1/applications/admins/${encodeURIComponent(colleague.email)}`,
    app: 'billing',
  });
  t.equal(granted.status, 200);
  const done = await call(colleague, { method: 'DELETE', url: '/v1/applications/purge', app: 'billing' });
  t.equal(done.status, 200, 'an admin may purge');
  t.equal(done.body, 'Done');
  t.same(await counts(h, scope), { events: 0, letters: 2, summary: 1 });
  const app = await h.ctx.store.collections.get(LEEK_APPLICATIONS, scope);
  t.equal((app?.fo_triggers as unknown[] | undefined)?.length, 1, 'triggers kept');
});

t.test('clean: deletes documents of one kind older than count × unit; admins only; strict parameters', async (t) => {
  const { h, owner, colleague, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const scope = leekScope('acme.io', 'billing');
  await seedData(h, scope);
  const url = '/v1/applications/clean?kind=task&count=2&unit=hours';
  t.equal(errorCode(await call(colleague, { method: 'DELETE', url, app: 'billing' })), 401002);
  const res = await call(owner, { method: 'DELETE', url, app: 'billing' });
  t.equal(res.status, 200);
  t.match(res.body, { task: /^cl/, deleted: 1 });
  t.notOk(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, scope, 't-old'), 'the old task is gone');
  t.ok(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, scope, 't-new'), 'the recent task stays');
  t.ok(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, scope, 'w-old'), 'workers are another kind');
  const workers = await call(owner, { method: 'DELETE', url: '/v1/applications/clean?kind=worker&count=1&unit=minutes', app: 'billing' });
  t.equal(workers.body.deleted, 1);
  for (const query of [
    '',
    'kind=job&count=1&unit=hours',
    'kind=task&count=-1&unit=hours',
    'kind=task&count=x&unit=hours',
    'kind=task&count=1&unit=years',
    'kind=task&count=1',
    'kind=task&count=1&unit=hours&extra=1',
  ]) {
    const bad = await call(owner, { method: 'DELETE', url: `/v1/applications/clean?${query}`, app: 'billing' });
    t.equal(bad.status, 400, query);
    t.equal(errorCode(bad), 400002, query);
  }
  t.equal((await counts(h, scope)).events, 1);
  t.same((await call(owner, { method: 'GET', url: '/v1/applications/tasks/cleanup', app: 'billing' })).body, [], 'nothing left running');
});

t.test('indices: storage stats per partition for members of the org', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  await seedData(h, leekScope('acme.io', 'billing'));
  const res = await call<Partition[]>(colleague, { method: 'GET', url: '/v1/applications/indices', app: 'billing' });
  t.equal(res.status, 200);
  t.same(
    res.body.map((p) => [p.name, p.primaries.docs.count, p.primaries.indexing.index_total]),
    [
      ['events', 3, 3],
      ['dead_letters', 2, 2],
      ['summary', 1, 1],
    ],
  );
  t.ok((res.body[0]?.primaries.store.size_in_bytes ?? 0) > 0);
  t.equal(errorCode(await call(stranger, { method: 'GET', url: '/v1/applications/indices', app: 'billing' })), 404001);
  t.equal(errorCode(await call(owner, { method: 'GET', url: '/v1/applications/indices' })), 400001);
});

t.test('fo-triggers: owner creates, edits (upsert) and deletes; defaults applied', async (t) => {
  const { owner, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const created = await call(owner, {
    method: 'POST',
    url: '/v1/applications/fo-triggers',
    app: 'billing',
    payload: { ...TRIGGER, exclude: ['billing\\.tasks\\.noisy'], runtime_upper_bound: '5' },
  });
  t.equal(created.status, 200);
  const trigger = created.body.fo_triggers?.[0];
  if (trigger === undefined) throw new Error('no trigger answered');
  t.match(trigger.id, /^[A-Z]{10}$/);
  t.same(trigger, { ...TRIGGER, id: trigger.id, states: [], envs: [], exclude: ['billing\\.tasks\\.noisy'], runtime_upper_bound: 5 });

  const edited = await call(owner, {
    method: 'PUT',
    url: `/v1/applications/fo-triggers/${trigger.id}`,
    app: 'billing',
    payload: { ...TRIGGER, enabled: false, states: ['FAILED', 'CRITICAL'], envs: ['prod'], include: ['billing\\.'] },
  });
  t.same(
    edited.body.fo_triggers,
    [{ ...TRIGGER, id: trigger.id, enabled: false, states: ['FAILED', 'CRITICAL'], envs: ['prod'], include: ['billing\\.'] }],
    'replaced whole',
  );

  const upserted = await call(owner, { method: 'PUT', url: '/v1/applications/fo-triggers/ZZZZZZZZZZ', app: 'billing', payload: TRIGGER });
  t.same(
    upserted.body.fo_triggers?.map((x) => x.id),
    [trigger.id, 'ZZZZZZZZZZ'],
    'an unknown id is appended',
  );

  const deleted = await call(owner, { method: 'DELETE', url: `/v1/applications/fo-triggers/${trigger.id}`, app: 'billing' });
  t.same(
    deleted.body.fo_triggers?.map((x) => x.id),
    ['ZZZZZZZZZZ'],
  );
  const noop = await call(owner, { method: 'DELETE', url: '/v1/applications/fo-triggers/QQQQQQQQQQ', app: 'billing' });
  t.equal(noop.status, 200, 'an unknown id is a no-op');
  t.same(
    noop.body.fo_triggers?.map((x) => x.id),
    ['ZZZZZZZZZZ'],
  );
  const badId = await call(owner, { method: 'DELETE', url: '/v1/applications/fo-triggers/abc', app: 'billing' });
  t.equal(errorCode(badId), 400002);
});

t.test('fo-triggers: strict schema (400 400002) and owner only', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const bad: Array<Record<string, unknown>> = [
    { ...TRIGGER, color: 'red' },
    { ...TRIGGER, include: ['a'], exclude: ['b'] },
    { ...TRIGGER, include: ['(unclosed'] },
    { ...TRIGGER, runtime_upper_bound: 0 },
    { ...TRIGGER, runtime_upper_bound: null },
    { ...TRIGGER, runtime_upper_bound: 1001 },
    { ...TRIGGER, type: 'email' },
    { ...TRIGGER, slack_wh_url: '' },
    { ...TRIGGER, slack_wh_url: 'ftp://files.example.com/x' },
    { ...TRIGGER, slack_wh_url: 'not a url' },
    { type: 'slack', slack_wh_url: TRIGGER.slack_wh_url },
    { ...TRIGGER, states: [{ state: 'FAILED' }] },
    { ...TRIGGER, id: 'AAAAAAAAAA' },
  ];
  for (const payload of bad) {
    const res = await call(owner, { method: 'POST', url: '/v1/applications/fo-triggers', app: 'billing', payload });
    t.equal(res.status, 400, JSON.stringify(payload));
    t.equal(errorCode(res), 400002, JSON.stringify(payload));
  }
  await call(owner, { method: 'POST', url: `/v1/applications/admins/${colleague.email}`, app: 'billing' });
  t.equal(
    errorCode(await call(colleague, { method: 'POST', url: '/v1/applications/fo-triggers', app: 'billing', payload: TRIGGER })),
    401002,
    'an admin is not the owner',
  );
  t.equal(
    errorCode(await call(stranger, { method: 'POST', url: '/v1/applications/fo-triggers', app: 'billing', payload: TRIGGER })),
    404001,
  );
  t.equal(
    errorCode(await call(colleague, { method: 'PUT', url: '/v1/applications/fo-triggers/AAAAAAAAAA', app: 'billing', payload: TRIGGER })),
    401002,
  );
  t.equal(errorCode(await call(colleague, { method: 'DELETE', url: '/v1/applications/fo-triggers/AAAAAAAAAA', app: 'billing' })), 401002);
  const app = await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing'));
  t.same(app?.fo_triggers, [], 'nothing saved');
});

t.test('fo-triggers: the web hook gets a message summarising the trigger before it is saved (create and edit)', async (t) => {
  const { owner, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const path = '/services/T1/B1/SUMMARY';
  const url = slack.url(path);
  const created = await call(owner, {
    method: 'POST',
    url: '/v1/applications/fo-triggers',
    app: 'billing',
    payload: { ...TRIGGER, slack_wh_url: url, states: ['FAILED', 'CRITICAL'], envs: ['prod'], include: ['billing\\.'] },
  });
  t.equal(created.status, 200);
  const id = created.body.fo_triggers?.[0]?.id ?? '';
  const [first] = slack.at(path);
  t.equal(first?.method, 'POST');
  t.equal(first?.headers['content-type'], 'application/json');
  const text = (JSON.parse(first?.body ?? '{}') as { text?: string }).text ?? '';
  for (const part of ['application billing', `Trigger ${id}: enabled`, 'Environments: prod', 'States: FAILED, CRITICAL', 'billing\\.'])
    t.ok(text.includes(part), `the message says ${JSON.stringify(part)}: ${text}`);

  await call(owner, {
    method: 'PUT',
    url: `/v1/applications/fo-triggers/${id}`,
    app: 'billing',
    payload: { ...TRIGGER, slack_wh_url: url, enabled: false },
  });
  t.equal(slack.at(path).length, 2, 'an edit is verified too');
  t.match(JSON.parse(slack.at(path)[1]?.body ?? '{}'), { text: /disabled[\s\S]*Environments: all[\s\S]*States: all/ });
});

t.test('fo-triggers: a web hook that refuses, cannot be reached or is not allowed → 400 400002, nothing saved', async (t) => {
  const { h, owner, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const kept = await call(owner, { method: 'POST', url: '/v1/applications/fo-triggers', app: 'billing', payload: TRIGGER });
  const before = kept.body.fo_triggers;
  t.equal(before?.length, 1);
  const id = before?.[0]?.id ?? '';
  slack.statuses.set('/refuses', [404]);
  slack.statuses.set('/fails', [500]);
  const unreachable = 'http://127.0.0.1:9/services/T/B/X'; // discard port: nothing listens
  for (const [url, reason] of [
    [slack.url('/refuses'), /HTTP 404/],
    [slack.url('/fails'), /HTTP 500/],
    [unreachable, /no answer/],
  ] as const) {
    for (const [method, path] of [
      ['POST', '/v1/applications/fo-triggers'],
      ['PUT', `/v1/applications/fo-triggers/${id}`],
    ] as const) {
      const res = await call(owner, { method, url: path, app: 'billing', payload: { ...TRIGGER, slack_wh_url: url, enabled: false } });
      t.equal(res.status, 400, `${method} ${url}`);
      t.equal(errorCode(res), 400002);
      t.match(res.body.error?.reason ?? res.body.error?.message, /invalid webhook URL/);
      t.match(JSON.stringify(res.body), reason);
    }
  }
  const app = await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing'));
  t.same(app?.fo_triggers, before, 'the saved trigger is unchanged and none was added');

  const guarded = await world(t, { webhookAllow: '' });
  await guarded.createApp(guarded.owner, 'billing');
  const sent = slack.requests.length;
  const refused = await guarded.call(guarded.owner, {
    method: 'POST',
    url: '/v1/applications/fo-triggers',
    app: 'billing',
    payload: TRIGGER,
  });
  t.equal(errorCode(refused), 400002);
  t.match(JSON.stringify(refused.body), /not allowed.*loopback/);
  t.equal(slack.requests.length, sent, 'the SSRF guard sent nothing to a loopback address that is not allow-listed');
});

t.test('fo-triggers: a web hook that does not answer in time refuses the trigger', async (t) => {
  slack.statuses.set('/silent', [0]);
  const trigger = { id: 'SILENTXXXX', enabled: true, type: 'slack' as const, slack_wh_url: slack.url('/silent'), states: [], envs: [] };
  const error = await verifyTriggerWebhook('billing', trigger, createWebhookGuard('127.0.0.1'), 300).catch((e: unknown) => e);
  t.ok(error instanceof LeekError, String(error));
  t.match((error as Error).message, /invalid webhook URL.*no answer.*timed out after 300 ms/);
});

t.test(
  'admins: owner grants by verified e-mail or username and removes; same-org users only without a whitelist (400 400008)',
  async (t) => {
    const { owner, colleague, stranger, call, createApp } = await world(t);
    await createApp(owner, 'billing');
    const url = (email: string) => `/v1/applications/admins/${encodeURIComponent(email)}`;
    const granted = await call(owner, { method: 'POST', url: url('Carl@acme.io'), app: 'billing' });
    t.equal(granted.status, 200);
    t.equal(granted.body.admins?.length, 1);
    t.equal(granted.body.admins?.[0]?.user, 'carl', 'the grant names the user id');
    t.equal(granted.body.admins?.[0]?.email, 'carl@acme.io', 'e-mails are compared lower-case');
    const since = granted.body.admins?.[0]?.since;
    const again = await call(owner, { method: 'POST', url: url('carl'), app: 'billing' });
    t.same(again.body.admins, [{ user: 'carl', email: 'carl@acme.io', since }], 're-grant (by username) keeps the first entry');
    const outsider = await call(owner, { method: 'POST', url: url('sam@beta.io'), app: 'billing' });
    t.equal(outsider.status, 400);
    t.equal(errorCode(outsider), 400008);
    t.equal(errorCode(await call(owner, { method: 'POST', url: url('not an@email'), app: 'billing' })), 400002);
    t.equal(errorCode(await call(owner, { method: 'POST', url: url('nobody'), app: 'billing' })), 400008, 'no such user');
    t.equal(errorCode(await call(owner, { method: 'POST', url: url('dan@acme.io'), app: 'billing' })), 400008, 'nobody verified it');
    t.equal(errorCode(await call(colleague, { method: 'POST', url: url('dan@acme.io'), app: 'billing' })), 401002, 'admins cannot grant');
    t.equal(errorCode(await call(stranger, { method: 'POST', url: url('sam@beta.io'), app: 'billing' })), 404001);
    t.equal(
      errorCode(await call(colleague, { method: 'DELETE', url: url('carl@acme.io'), app: 'billing' })),
      401002,
      'admins cannot revoke',
    );
    const removed = await call(owner, { method: 'DELETE', url: url('carl@acme.io'), app: 'billing' });
    t.same(removed.body.admins, []);
    const noop = await call(owner, { method: 'DELETE', url: url('nobody@acme.io'), app: 'billing' });
    t.equal(noop.status, 200);
    t.same(noop.body.admins, []);
    t.equal(
      errorCode(await call(colleague, { method: 'DELETE', url: '/v1/applications/purge', app: 'billing' })),
      401002,
      'no longer admin',
    );
  },
);

t.test('admins: with a whitelist, e-mails whose domain or local part is listed are eligible', async (t) => {
  const { h, owner, call, createApp } = await world(t, { leekAllowedOrgs: 'acme.io,beta.io,jane' });
  await user(h, 'jane', 'jane@gmail.com');
  await user(h, 'eve', 'eve@evil.io');
  await createApp(owner, 'billing');
  const grant = (email: string) => call(owner, { method: 'POST', url: `/v1/applications/admins/${email}`, app: 'billing' });
  t.equal((await grant('sam@beta.io')).status, 200, 'domain listed');
  t.equal((await grant('jane@gmail.com')).status, 200, 'local part listed');
  t.equal(errorCode(await grant('eve@evil.io')), 400008);
});

t.test('dead letters: admins list them newest first and purge them', async (t) => {
  const { h, owner, colleague, stranger, call, createApp } = await world(t);
  await createApp(owner, 'billing');
  const scope = leekScope('acme.io', 'billing');
  await seedData(h, scope);
  t.equal(errorCode(await call(colleague, { method: 'GET', url: '/v1/applications/dead-letters', app: 'billing' })), 401002);
  t.equal(errorCode(await call(stranger, { method: 'GET', url: '/v1/applications/dead-letters', app: 'billing' })), 404001);
  const list = await call(owner, { method: 'GET', url: '/v1/applications/dead-letters', app: 'billing' });
  t.equal(list.status, 200);
  t.equal(list.body.total, 2);
  t.same(
    list.body.dead_letters?.map((d) => d.id),
    ['d2', 'd1'],
  );
  t.same(list.body.dead_letters?.[1]?.document, { nope: 1 });
  const paged = await call(owner, { method: 'GET', url: '/v1/applications/dead-letters?size=1&from_=1', app: 'billing' });
  t.same(
    paged.body.dead_letters?.map((d) => d.id),
    ['d1'],
  );
  t.equal(errorCode(await call(owner, { method: 'GET', url: '/v1/applications/dead-letters?size=5000', app: 'billing' })), 400002);
  t.equal(errorCode(await call(colleague, { method: 'DELETE', url: '/v1/applications/dead-letters', app: 'billing' })), 401002);
  const purged = await call(owner, { method: 'DELETE', url: '/v1/applications/dead-letters', app: 'billing' });
  t.same(purged.body, { deleted: 2 });
  t.same(await counts(h, scope), { events: 3, letters: 0, summary: 1 });
});

t.test('tenant isolation: another org never reaches an app, its key or its triggers', async (t) => {
  const { h, owner, stranger, call, createApp } = await world(t);
  const app = await createApp(owner, 'billing');
  await call(owner, { method: 'POST', url: '/v1/applications/fo-triggers', app: 'billing', payload: TRIGGER });
  const theirs = await call(stranger, { method: 'GET', url: '/v1/applications' });
  t.same(theirs.body, []);
  t.notMatch(JSON.stringify(theirs.body), app.app_key);
  for (const [method, url] of [
    ['DELETE', '/v1/applications'],
    ['DELETE', '/v1/applications/purge'],
    ['DELETE', '/v1/applications/clean?kind=task&count=0&unit=seconds'],
    ['GET', '/v1/applications/indices'],
    ['GET', '/v1/applications/dead-letters'],
    ['DELETE', '/v1/applications/dead-letters'],
    ['DELETE', '/v1/applications/fo-triggers/AAAAAAAAAA'],
    ['POST', '/v1/applications/admins/sam@beta.io'],
  ] as const) {
    const res = await call(stranger, { method, url, app: 'billing' });
    t.equal(res.status, 404, `${method} ${url}`);
  }
  const stored = await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing'));
  t.equal((stored?.fo_triggers as unknown[] | undefined)?.length, 1);
  t.notOk(stored?.admins);
});
