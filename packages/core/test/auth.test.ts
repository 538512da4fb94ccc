import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import t from 'tap';
import { type ApiDescriptor, Ok, defineApi } from '@shallot/schemas';
import { implement, registerApi } from '../src/api.js';
import type { ServiceContext } from '../src/context.js';
import { SESSIONS } from '../src/auth.js';
import { API_KEYS, USERS, hashApiKey, userKey } from '../src/identity.js';
import { prepareApp } from '../src/service.js';
import { type Teardownable, testContext } from '../src/testing.js';

const whoami = defineApi({
  name: 'whoami',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'test',
  params: Type.Object({}, { additionalProperties: true }),
  response: Ok({ username: Type.String(), kind: Type.String(), params: Type.Record(Type.String(), Type.Unknown()) }),
});
const editEvents = defineApi({ ...whoami, name: 'edit_thing', privilege: 'edit_events' });
const sessionOnly = defineApi({ ...whoami, name: 'session_thing', privilege: 'session' });
const api: ApiDescriptor[] = [whoami, editEvents, sessionOnly];

async function buildApp(t: Teardownable, ctx: ServiceContext) {
  const app = Fastify();
  await prepareApp(app, ctx, 'test');
  const handler = async ({ caller, params }: { caller: { username: string; kind: string } | null; params: Record<string, unknown> }) => ({
    code: 0 as const,
    username: caller?.username ?? '',
    kind: caller?.kind ?? '',
    params,
  });
  registerApi(app, { service: 'management', api, implementations: api.map((d) => implement(d, handler as never)) });
  t.teardown(() => app.close());
  return app;
}

async function seed(ctx: ServiceContext) {
  const now = Math.floor(Date.now() / 1000);
  const user = (username: string, privileges: Record<string, boolean>, extra: Record<string, unknown> = {}) =>
    ctx.store.collections.create(USERS, {
      id: userKey(username),
      username,
      full_name: username,
      email: `${username}@example.com`,
      active: true,
      password: 'unused',
      privileges,
      roles: [],
      categories: [],
      groups: [],
      created: now,
      modified: now,
      ...extra,
    });
  await user('alice', { edit_events: true });
  await user('bob', {});
  await user('carol', {}, { roles: ['editors'] });
  await user('dave', { admin: true }, { active: false });
  await ctx.store.collections.create('roles', { id: 'editors', title: 'Editors', enabled: true, privileges: { edit_events: true } });
  await ctx.store.collections.create(API_KEYS, {
    id: 'kgood',
    title: 'Good key',
    key_hash: hashApiKey('good-key-0123456789abcdef'),
    active: true,
    privileges: { edit_events: true },
  });
  await ctx.store.collections.create(API_KEYS, {
    id: 'kweak',
    title: 'Weak key',
    key_hash: hashApiKey('weak-key-0123456789abcdef'),
    active: true,
    privileges: {},
  });
  await ctx.store.collections.create(API_KEYS, {
    id: 'koff',
    title: 'Disabled',
    key_hash: hashApiKey('off-key-0123456789abcdef'),
    active: false,
    privileges: { admin: true },
  });
  await ctx.store.collections.create(API_KEYS, {
    id: 'kold',
    title: 'Expired',
    key_hash: hashApiKey('old-key-0123456789abcdef'),
    active: true,
    expires: 1000,
    privileges: { admin: true },
  });
}

t.test('auth', async (t) => {
  const ctx = await testContext(t);
  await seed(ctx);
  const app = await buildApp(t, ctx);
  const session = async (username: string) => (await app.sessions.issue(username)).token;
  const alice = await session('alice');

  t.test('a session by X-Session-ID, bearer token or session_id param identifies the user', async (t) => {
    for (const request of [
      { headers: { 'x-session-id': alice } },
      { headers: { authorization: `Bearer ${alice}` } },
      { query: { session_id: alice } },
    ]) {
      const res = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', ...request });
      t.equal(res.statusCode, 200, JSON.stringify(request));
      t.same(res.json(), { code: 0, username: 'alice', kind: 'session', params: {} }, 'credentials never reach the handler');
    }
  });

  t.test('no credentials: code session with HTTP 403 on /v1, 200 without version', async (t) => {
    const versioned = await app.inject({ method: 'GET', url: '/api/app/whoami/v1' });
    t.equal(versioned.statusCode, 403);
    t.same(versioned.json(), { code: 'session', description: 'No Session ID or API Key could be found' });
    const unversioned = await app.inject({ method: 'GET', url: '/api/app/whoami' });
    t.equal(unversioned.statusCode, 200);
    t.equal(unversioned.json().code, 'session');
  });

  t.test('altered, never-issued, JWT-shaped and expired session ids are refused', async (t) => {
    const jwtShaped = app.jwt.sign({ sub: 'alice', sid: 'x', csrf: 'y' });
    // Five-second sessions: long enough to be used once on a loaded machine, short enough to wait out.
    const shortCtx = await testContext(t, { sessionDays: 5 / 86400 });
    await seed(shortCtx);
    const shortApp = await buildApp(t, shortCtx);
    const short = await shortApp.sessions.issue('alice');
    const unused = await shortApp.sessions.issue('alice');
    const live = await shortApp.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': short.token } });
    t.equal(live.json().code, 0, 'a short session works at first');
    await new Promise((r) => setTimeout(r, Math.max(unused.claims.exp, short.claims.exp) * 1000 + 1100 - Date.now()));
    const expired = await shortApp.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': short.token } });
    t.same(expired.json(), { code: 'session', description: 'Invalid or expired session' }, 'refused once expired');
    t.notOk(await shortCtx.store.collections.get(SESSIONS, short.claims.sid), 'the expired session is deleted when it is refused');
    t.ok(await shortCtx.store.collections.get(SESSIONS, unused.claims.sid), 'an expired session nobody presented is still stored');
    await shortApp.sessions.issue('alice');
    t.notOk(await shortCtx.store.collections.get(SESSIONS, unused.claims.sid), "and goes when the user's next session is issued");
    for (const [name, token] of [
      ['one character changed', `${alice.slice(0, -1)}${alice.endsWith('0') ? '1' : '0'}`],
      ['never issued', 'ab'.repeat(32)],
      ['JWT signed with the key', jwtShaped],
      ['garbage', 'not-a-session'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': token } });
      t.equal(res.statusCode, 403, name);
      t.equal(res.json().code, 'session', name);
    }
  });

  t.test('sessions are stored by hash only: neither the store nor Redis holds the session id', async (t) => {
    const issued = await app.sessions.issue('alice');
    t.match(issued.token, /^[0-9a-f]{64}$/);
    const stored = await ctx.store.collections.get(SESSIONS, issued.claims.sid);
    t.ok(stored, 'a stored record');
    t.notOk(JSON.stringify(stored).includes(issued.token), 'the record does not contain the id');
    const keys = await ctx.redis.client.keys(`${ctx.config.redisPrefix}:session:*`);
    for (const key of keys) t.notOk((await ctx.redis.client.call('GET', key)) === issued.token);
    t.notOk(
      keys.some((k) => k.includes(issued.token)),
      'no Redis key names the id',
    );
  });

  t.test('a bad session does not fall through to a valid API key', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/app/whoami/v1',
      headers: { 'x-session-id': 'bogus', 'x-api-key': 'good-key-0123456789abcdef' },
    });
    t.equal(res.json().code, 'session');
  });

  t.test('API keys by header, query and JSON property', async (t) => {
    const byHeader = await app.inject({
      method: 'GET',
      url: '/api/app/edit_thing/v1',
      headers: { 'x-api-key': 'good-key-0123456789abcdef' },
    });
    t.same(byHeader.json(), { code: 0, username: 'kgood', kind: 'key', params: {} });
    const byQuery = await app.inject({ method: 'GET', url: '/api/app/edit_thing/v1?api_key=good-key-0123456789abcdef&x=1' });
    t.same(byQuery.json().params, { x: '1' }, 'the key is removed from the params');
    const byBody = await app.inject({
      method: 'POST',
      url: '/api/app/edit_thing/v1',
      payload: { api_key: 'good-key-0123456789abcdef', y: 2 },
    });
    t.same(byBody.json(), { code: 0, username: 'kgood', kind: 'key', params: { y: 2 } });
  });

  t.test('unknown, disabled and expired API keys are refused', async (t) => {
    for (const key of ['nope-0123456789abcdefghij', 'off-key-0123456789abcdef', 'old-key-0123456789abcdef']) {
      const res = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-api-key': key } });
      t.equal(res.statusCode, 403, key);
      t.equal(res.json().code, 'session', key);
    }
  });

  t.test('privilege guard: own privilege, role privilege, denial messages', async (t) => {
    const allowed = await app.inject({ method: 'POST', url: '/api/app/edit_thing/v1', headers: { 'x-session-id': alice }, payload: {} });
    t.equal(allowed.json().code, 0);
    const viaRole = await app.inject({
      method: 'POST',
      url: '/api/app/edit_thing/v1',
      headers: { 'x-session-id': await session('carol') },
      payload: {},
    });
    t.equal(viaRole.json().code, 0, 'a role grants its privileges');
    const denied = await app.inject({
      method: 'POST',
      url: '/api/app/edit_thing/v1',
      headers: { 'x-session-id': await session('bob') },
      payload: {},
    });
    t.equal(denied.statusCode, 403);
    t.same(denied.json(), { code: 'access', description: 'You do not have the "Edit Events" privilege required to perform this action.' });
    const weakKey = await app.inject({
      method: 'GET',
      url: '/api/app/edit_thing/v1',
      headers: { 'x-api-key': 'weak-key-0123456789abcdef' },
    });
    // The spec names the key by its title (behaviour §2).
    t.match(weakKey.json().description, /^API Key "Weak key" does not have the "Edit Events" privilege/);
  });

  t.test('a disabled role grants nothing', async (t) => {
    await ctx.store.collections.update('roles', 'editors', { enabled: false });
    t.teardown(() => ctx.store.collections.update('roles', 'editors', { enabled: true }));
    const res = await app.inject({
      method: 'POST',
      url: '/api/app/edit_thing/v1',
      headers: { 'x-session-id': await session('carol') },
      payload: {},
    });
    t.equal(res.json().code, 'access');
  });

  t.test('a disabled user cannot use an existing session', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': await session('dave') } });
    t.same(res.json(), { code: 'session', description: 'User account is disabled' });
  });

  t.test('session-only endpoints refuse API keys', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/app/session_thing/v1',
      headers: { 'x-api-key': 'good-key-0123456789abcdef' },
    });
    t.equal(res.json().code, 'session');
    const ok = await app.inject({ method: 'GET', url: '/api/app/session_thing/v1', headers: { 'x-session-id': alice } });
    t.equal(ok.json().code, 0);
  });

  t.test('cookie-authenticated writes need the CSRF token; header sessions do not', async (t) => {
    const issued = await app.sessions.issue('alice');
    const cookie = `session_id=${issued.token}`;
    const read = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { cookie } });
    t.equal(read.json().code, 0, 'reads need no token');
    const write = await app.inject({ method: 'POST', url: '/api/app/whoami/v1', headers: { cookie }, payload: {} });
    t.equal(write.json().code, 'session');
    t.match(write.json().description, /X-CSRF-Token/);
    const wrong = await app.inject({ method: 'POST', url: '/api/app/whoami/v1', headers: { cookie, 'x-csrf-token': 'nope' }, payload: {} });
    t.equal(wrong.json().code, 'session');
    const right = await app.inject({
      method: 'POST',
      url: '/api/app/whoami/v1',
      headers: { cookie, 'x-csrf-token': issued.claims.csrf },
      payload: {},
    });
    t.equal(right.json().code, 0);
    const header = await app.inject({ method: 'POST', url: '/api/app/whoami/v1', headers: { 'x-session-id': issued.token }, payload: {} });
    t.equal(header.json().code, 0);
  });

  t.test('revoke ends one session; revokeAll ends every earlier session of the user', async (t) => {
    const one = await app.sessions.issue('bob');
    const two = await app.sessions.issue('bob');
    await app.sessions.revoke(one.claims);
    const first = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': one.token } });
    t.equal(first.json().code, 'session');
    const second = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': two.token } });
    t.equal(second.json().code, 0, 'other sessions live on');
    await app.sessions.revokeAll('bob');
    const after = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': two.token } });
    t.equal(after.json().code, 'session');
    const fresh = await app.sessions.issue('bob');
    const later = await app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': fresh.token } });
    t.equal(later.json().code, 0, 'a session issued afterwards works');
  });
});
