/**
 * Sessions as an xyOps client sees them, over a real listening port: the id is taken from Set-Cookie with
 * /session_id=(\w+)/ and used as a header or a cookie; it survives resume_session; logout, logout_all and an
 * administrator's password change end it; a first admin with a generated password must choose one first.
 */
import { createApp, prepareApp } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import t from 'tap';
import { type AdminSeed, managementPlugin } from '../src/index.js';
import { ADMIN_PASSWORD, makeUser } from './helpers.js';

type Tap = Parameters<typeof testContext>[0];

async function listening(t: Tap, adminPassword: string): Promise<{ base: string; seed: () => AdminSeed }> {
  const ctx = await testContext(t, { adminPassword });
  const app = createApp(ctx.config, { logger: false });
  await prepareApp(app, ctx, 'management');
  let seeded: AdminSeed | undefined;
  await app.register(managementPlugin, {
    ctx,
    onSeeded: (seed) => {
      seeded = seed;
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return {
    base,
    seed: () => {
      if (!seeded) throw new Error('not seeded');
      return seeded;
    },
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { code: unknown };
  setCookie: string;
}

async function post(base: string, path: string, payload: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'], setCookie: res.headers.get('set-cookie') ?? '' };
}

/** What xyOps clients do with the login answer. */
function sessionFromSetCookie(setCookie: string): string {
  const match = /session_id=(\w+)/.exec(setCookie);
  if (!match?.[1]) throw new Error(`no session_id in Set-Cookie: ${setCookie}`);
  return match[1];
}

t.test('the session id from Set-Cookie (/session_id=(\\w+)/) works as a header and as a cookie for an admin call', async (t) => {
  const { base } = await listening(t, ADMIN_PASSWORD);
  const login = await post(base, '/api/user/login', { username: 'admin', password: ADMIN_PASSWORD });
  t.equal(login.body.code, 0);
  const id = sessionFromSetCookie(login.setCookie);
  t.equal(id, login.body.session_id, 'the whole id, not a prefix of it');
  t.match(id, /^[0-9a-f]{64}$/);
  t.notOk('force_password_change' in login.body, 'SHALLOT_ADMIN_PASSWORD counts as chosen');
  const byHeader = await post(base, '/api/user/admin_get_users', {}, { 'x-session-id': id });
  t.equal(byHeader.body.code, 0, 'admin call with X-Session-ID');
  t.ok(Array.isArray(byHeader.body.rows));
  const byCookie = await post(
    base,
    '/api/app/create_tag/v1',
    { id: 'cookie_tag', title: 'Cookie' },
    {
      cookie: `session_id=${id}`,
      'x-csrf-token': String(login.body.csrf_token),
    },
  );
  t.equal(byCookie.body.code, 0, 'cookie-authenticated write with the CSRF token');
});

t.test('a session survives resume_session, and ends with logout', async (t) => {
  const { base } = await listening(t, ADMIN_PASSWORD);
  const id = sessionFromSetCookie((await post(base, '/api/user/login', { username: 'admin', password: ADMIN_PASSWORD })).setCookie);
  const other = sessionFromSetCookie((await post(base, '/api/user/login', { username: 'admin', password: ADMIN_PASSWORD })).setCookie);
  for (let i = 0; i < 3; i++) {
    const resumed = await post(base, '/api/user/resume_session', {}, { cookie: `session_id=${id}` });
    t.equal(resumed.body.code, 0);
    t.equal(sessionFromSetCookie(resumed.setCookie), id, 'the cookie carries the same id');
    t.ok(Array.isArray(resumed.body.categories), 'the bootstrap bundle');
  }
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': id })).body.code, 0, 'the same id still works');
  t.equal((await post(base, '/api/user/logout', {}, { 'x-session-id': id })).body.code, 0);
  const after = await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': id });
  t.equal(after.body.code, 'session', 'refused after logout');
  t.equal(after.status, 403);
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': other })).body.code, 0, 'another session lives on');
});

t.test("logout_all ends every other session of the user and keeps the caller's own", async (t) => {
  const { base } = await listening(t, ADMIN_PASSWORD);
  const login = async () =>
    sessionFromSetCookie((await post(base, '/api/user/login', { username: 'admin', password: ADMIN_PASSWORD })).setCookie);
  const [mine, second, third] = [await login(), await login(), await login()];
  const wrong = await post(base, '/api/app/logout_all/v1', { password: 'not-it' }, { 'x-session-id': mine });
  t.equal(wrong.body.code, 'login', 'a wrong password ends nothing');
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': second })).body.code, 0);
  const done = await post(base, '/api/app/logout_all/v1', { password: ADMIN_PASSWORD }, { 'x-session-id': mine });
  t.equal(done.body.code, 0);
  for (const id of [second, third]) t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': id })).body.code, 'session');
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': mine })).body.code, 0, 'the caller keeps theirs');
});

t.test("an administrator's new password or disabling ends the user's sessions", async (t) => {
  const { base } = await listening(t, ADMIN_PASSWORD);
  const admin = sessionFromSetCookie((await post(base, '/api/user/login', { username: 'admin', password: ADMIN_PASSWORD })).setCookie);
  await post(
    base,
    '/api/user/admin_create',
    { username: 'ursula', password: 'user-password-1', full_name: 'U', email: 'u@example.com' },
    {
      'x-session-id': admin,
    },
  );
  const login = await post(base, '/api/user/login', { username: 'ursula', password: 'user-password-1' });
  const id = sessionFromSetCookie(login.setCookie);
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': id })).body.code, 0);
  const changed = await post(
    base,
    '/api/user/admin_update',
    { username: 'ursula', new_password: 'another-password-2' },
    { 'x-session-id': admin },
  );
  t.equal(changed.body.code, 0);
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': id })).body.code, 'session');
});

t.test('a generated first admin password must be changed before anything else', async (t) => {
  const { base, seed } = await listening(t, '');
  const generated = String(seed().generatedPassword);
  t.ok(seed().generatedPassword, 'a password was generated');
  const login = await post(base, '/api/user/login', { username: 'admin', password: generated });
  t.equal(login.body.code, 0);
  t.equal(login.body.force_password_change, true, 'the login answer says so');
  const id = sessionFromSetCookie(login.setCookie);
  const headers = { 'x-session-id': id };
  for (const name of ['get_tags', 'create_category', 'get_api_keys']) {
    const refused = await post(base, `/api/app/${name}/v1`, {}, headers);
    t.equal(refused.status, 403, name);
    t.equal(refused.body.code, 'password', name);
    t.match(String(refused.body.description), /new password/, name);
  }
  t.equal((await post(base, '/api/user/admin_get_users', {}, headers)).body.code, 'password');
  const resumed = await post(base, '/api/user/resume_session', {}, headers);
  t.equal(resumed.body.code, 0, 'resume_session still answers');
  t.equal(resumed.body.force_password_change, true);
  t.equal((await post(base, '/api/app/echo/v1', { a: 1 }, headers)).body.code, 0, 'echo still answers');
  const tooShort = await post(base, '/api/user/update', { username: 'admin', old_password: generated, new_password: 'x' }, headers);
  t.equal(tooShort.body.code, 'api', 'the new password is still validated');
  const changed = await post(
    base,
    '/api/user/update',
    { username: 'admin', old_password: generated, new_password: 'chosen-password-1' },
    headers,
  );
  t.equal(changed.body.code, 0);
  t.equal((await post(base, '/api/app/get_tags/v1', {}, headers)).body.code, 0, 'everything works once changed');
  const again = await post(base, '/api/user/login', { username: 'admin', password: 'chosen-password-1' });
  t.notOk('force_password_change' in again.body);
});

t.test('users other than the first admin are not asked to change their password', async (t) => {
  const ctx = await testContext(t, { adminPassword: ADMIN_PASSWORD });
  await makeUser(ctx, 'plain');
  const app = createApp(ctx.config, { logger: false });
  await prepareApp(app, ctx, 'management');
  await app.register(managementPlugin, { ctx });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const login = await post(base, '/api/user/login', { username: 'plain', password: 'user-password-1' });
  t.notOk('force_password_change' in login.body);
  t.equal((await post(base, '/api/app/get_tags/v1', {}, { 'x-session-id': String(login.body.session_id) })).body.code, 0);
});
