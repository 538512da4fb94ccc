import { createApp, prepareApp } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import t from 'tap';
import { managementPlugin } from '../src/plugin.js';
import { seedAdmin } from '../src/seed.js';

async function management(t: Parameters<typeof testContext>[0], adminPassword = 'admin-test-password') {
  const ctx = await testContext(t, { adminPassword });
  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'management');
  await app.register(managementPlugin, { ctx });
  t.teardown(() => app.close());
  return { app, ctx };
}

t.test('first run seeds the admin once, with a generated password when none is configured', async (t) => {
  const ctx = await testContext(t, { adminPassword: '' });
  const first = await seedAdmin(ctx.store, '');
  t.equal(first.created, true);
  t.match(first.generatedPassword, /^[\w-]{16}$/);
  const second = await seedAdmin(ctx.store, '');
  t.same(second, { username: 'admin', created: false }, 'a second start keeps the existing admin');
});

t.test('login answers a session, a CSRF token and the user, and sets an HttpOnly cookie', async (t) => {
  const { app } = await management(t);
  const res = await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: 'admin-test-password' } });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.code, 0);
  t.equal(body.username, 'admin');
  t.equal(body.user.privileges.admin, true);
  t.notOk('password' in body.user, 'the password hash is never answered');
  t.match(body.session_id, /^[0-9a-f]{64}$/, 'an opaque id of letters and digits (xyOps clients match session_id=(\\w+))');
  t.match(body.csrf_token, /^[0-9a-f]{32}$/);
  const cookie = res.cookies.find((c) => c.name === 'session_id');
  t.equal(cookie?.value, body.session_id);
  t.equal(cookie?.httpOnly, true);
  t.equal(cookie?.sameSite, 'Lax');
  t.equal(cookie?.path, '/');
});

t.test('login refuses wrong passwords and unknown users with one vague message', async (t) => {
  const { app } = await management(t);
  for (const payload of [
    { username: 'admin', password: 'wrong' },
    { username: 'nobody', password: 'admin-test-password' },
  ]) {
    const res = await app.inject({ method: 'POST', url: '/api/user/login', payload });
    t.same(res.json(), { code: 'login', description: 'Username or password incorrect' });
    t.equal(res.cookies.length, 0);
  }
});

t.test('login validates its input', async (t) => {
  const { app } = await management(t);
  for (const payload of [{}, { username: 'admin' }, { username: 'admin', password: { guess: 1 } }, { username: '', password: 'x' }]) {
    const res = await app.inject({ method: 'POST', url: '/api/user/login', payload });
    t.equal(res.json().code, 'api', JSON.stringify(payload));
  }
});

t.test('echo names the caller of a session, and answers anonymous calls without one', async (t) => {
  const { app } = await management(t);
  const login = (
    await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: 'admin-test-password' } })
  ).json();
  const res = await app.inject({ method: 'GET', url: '/api/app/echo/v1?hello=world', headers: { 'x-session-id': login.session_id } });
  t.match(res.json(), { code: 0, caller: { kind: 'session', username: 'admin', privileges: { admin: true } }, params: { hello: 'world' } });
  const post = await app.inject({
    method: 'POST',
    url: '/api/app/echo/v1',
    headers: { 'x-session-id': login.session_id },
    payload: { a: [1, 2] },
  });
  t.same(post.json().params, { a: [1, 2] });
  const anonymous = await app.inject({ method: 'GET', url: '/api/app/echo/v1' });
  t.equal(anonymous.statusCode, 200);
  t.equal(anonymous.json().code, 0);
  t.notOk('caller' in anonymous.json());
  const needsOne = await app.inject({ method: 'GET', url: '/api/app/get_tags/v1' });
  t.equal(needsOne.statusCode, 403);
  t.equal(needsOne.json().code, 'session');
});

t.test('logout revokes the session and clears the cookie; logout without a session still answers 0', async (t) => {
  const { app } = await management(t);
  const login = (
    await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: 'admin-test-password' } })
  ).json();
  const headers = { 'x-session-id': login.session_id };
  const out = await app.inject({ method: 'POST', url: '/api/user/logout', headers, payload: {} });
  t.same(out.json(), { code: 0 });
  t.equal(out.cookies.find((c) => c.name === 'session_id')?.value, '', 'cookie cleared');
  const after = await app.inject({ method: 'GET', url: '/api/app/echo/v1', headers });
  t.equal(after.json().code, 'session', 'the revoked session no longer works');
  const again = await app.inject({ method: 'POST', url: '/api/user/logout', payload: {} });
  t.same(again.json(), { code: 0 });
});

t.test('resume_session keeps the session it is given, refuses a revoked one, and answers 0 without one', async (t) => {
  const { app } = await management(t);
  const login = (
    await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: 'admin-test-password' } })
  ).json();
  const resumed = await app.inject({
    method: 'POST',
    url: '/api/user/resume_session',
    headers: { 'x-session-id': login.session_id },
    payload: {},
  });
  const body = resumed.json();
  t.equal(body.code, 0);
  t.equal(body.username, 'admin');
  t.equal(body.session_id, login.session_id, 'the same session id');
  t.ok(body.expires >= login.expires, 'its expiry moved on');
  const still = await app.inject({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': login.session_id } });
  t.equal(still.json().code, 0, 'the session works after resume_session (other tabs and scripts keep going)');
  await app.inject({ method: 'POST', url: '/api/user/logout', headers: { 'x-session-id': login.session_id }, payload: {} });
  const again = await app.inject({
    method: 'POST',
    url: '/api/user/resume_session',
    headers: { 'x-session-id': login.session_id },
    payload: {},
  });
  t.equal(again.json().code, 'session');
  const none = await app.inject({ method: 'POST', url: '/api/user/resume_session', payload: {} });
  t.same(none.json(), { code: 0 });
});
