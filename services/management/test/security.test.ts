/** Security through the real endpoints: forged and expired sessions, revocation, body limits, CSRF, prototype keys. */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import t from 'tap';
import { ADMIN_PASSWORD, harness } from './helpers.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(secret: string, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

t.test('forged, altered, never-issued and JWT session ids are refused by every entry point', async (t) => {
  const h = await harness(t);
  const real = (h.admin as { session: string }).session;
  const flip = (c: string) => (c === '0' ? '1' : '0');
  const tokens: Record<string, string> = {
    'one character changed': `${real.slice(0, -1)}${flip(real.slice(-1))}`,
    'never issued': randomBytes(32).toString('hex'),
    'the stored hash instead of the id': createHash('sha256').update(real).digest('hex'),
    truncated: real.slice(0, 32),
    'upper case': real.toUpperCase(),
    // Sessions are no longer signed tokens: even one signed with the right key is not a session.
    'JWT signed with the secret key': sign(h.ctx.secretKey, { sub: 'admin', sid: 'a'.repeat(32), iat: now(), exp: now() + 3600 }),
    garbage: 'not-a-session',
  };
  // The real id is accepted: the refusals below are about the ids, not the harness.
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': real } })).body.code, 0);

  for (const [name, token] of Object.entries(tokens)) {
    for (const headers of [{ 'x-session-id': token }, { authorization: `Bearer ${token}` }, { cookie: `session_id=${token}` }]) {
      const res = await h.call({ method: 'GET', url: '/api/app/get_tags/v1', headers });
      t.equal(res.body.code, 'session', `${name} via ${Object.keys(headers)[0]}`);
      t.equal(res.status, 403);
    }
    const resume = await h.call({ method: 'POST', url: '/api/user/resume_session', headers: { 'x-session-id': token }, payload: {} });
    t.equal(resume.body.code, 'session', `${name}: resume_session`);
    const admin = await h.call({ method: 'POST', url: '/api/user/admin_get_users', headers: { 'x-session-id': token }, payload: {} });
    t.equal(admin.body.code, 'session', `${name}: admin_get_users`);
  }
  // A bad session never falls through to a valid API key.
  const keyed = await h.api('create_api_key', { title: 'k', privileges: { admin: true } });
  const both = await h.call({
    method: 'GET',
    url: '/api/app/get_tags/v1',
    headers: { 'x-session-id': 'not-a-session', 'x-api-key': keyed.body.plain_key },
  });
  t.equal(both.body.code, 'session');
});

t.test('logout and logout_all revoke sessions', async (t) => {
  const h = await harness(t);
  const first = await h.login('admin', ADMIN_PASSWORD);
  const second = await h.login('admin', ADMIN_PASSWORD);
  const third = await h.login('admin', ADMIN_PASSWORD);
  t.same((await h.call({ method: 'POST', url: '/api/user/logout', headers: { 'x-session-id': first }, payload: {} })).body, { code: 0 });
  t.equal(
    (await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': first } })).body.code,
    'session',
    'after logout',
  );

  const wrong = await h.api('logout_all', { password: 'wrong' }, { session: second });
  t.equal(wrong.body.code, 'login', 'a wrong password changes nothing');
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': third } })).body.code, 0);

  t.same((await h.api('logout_all', { password: ADMIN_PASSWORD }, { session: second })).body, { code: 0 });
  t.equal(
    (await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': third } })).body.code,
    'session',
    'other sessions end',
  );
  const harnessSession = (h.admin as { session: string }).session;
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': harnessSession } })).body.code, 'session');
  t.equal(
    (await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': second } })).body.code,
    0,
    'the calling session stays',
  );
  const fresh = await h.login('admin', ADMIN_PASSWORD);
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': fresh } })).body.code, 0, 'new logins work');
  const log = await h.api('get_user_activity', {}, { session: fresh });
  t.ok(
    log.body.rows.some((r: { action: string }) => r.action === 'warning'),
    'logout_all is in the security log',
  );
  const key = await h.api('create_api_key', { title: 'k', privileges: { admin: true } }, { session: fresh });
  t.equal((await h.api('logout_all', { password: ADMIN_PASSWORD }, { key: key.body.plain_key })).body.code, 'session', 'sessions only');
});

t.test('oversized bodies are refused with 413 before any handler runs', async (t) => {
  const h = await harness(t, { bodyLimit: 4096 });
  const session = (h.admin as { session: string }).session;
  const big = { title: 'Big', notes: 'x'.repeat(8192) };
  const res = await h.call({ method: 'POST', url: '/api/app/create_tag/v1', headers: { 'x-session-id': session }, payload: big });
  t.equal(res.status, 413);
  t.equal(res.body.code, 'api');
  const unversioned = await h.call({ method: 'POST', url: '/api/app/create_tag', headers: { 'x-session-id': session }, payload: big });
  t.equal(unversioned.status, 413, 'transport limits keep their status on unversioned URLs');
  const form = await h.call({
    method: 'POST',
    url: '/api/app/create_tag/v1',
    headers: { 'x-session-id': session, 'content-type': 'application/x-www-form-urlencoded' },
    body: `title=${'y'.repeat(8192)}`,
  });
  t.equal(form.status, 413);
  const { total } = await h.ctx.store.collections.list('tags', { where: { title: 'Big' } });
  t.equal(total, 0, 'nothing written');
});

t.test('cookie-authenticated writes need the CSRF token; reads and header sessions do not', async (t) => {
  const h = await harness(t);
  const login = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  const cookie = `session_id=${login.body.session_id}`;
  const csrf = login.body.csrf_token as string;
  const denied = await h.call({ method: 'POST', url: '/api/app/create_tag/v1', headers: { cookie }, payload: { title: 'No token' } });
  t.equal(denied.body.code, 'session');
  const wrong = await h.call({
    method: 'POST',
    url: '/api/app/create_tag/v1',
    headers: { cookie, 'x-csrf-token': 'f'.repeat(32) },
    payload: { title: 'Wrong' },
  });
  t.equal(wrong.body.code, 'session');
  const ok = await h.call({
    method: 'POST',
    url: '/api/app/create_tag/v1',
    headers: { cookie, 'x-csrf-token': csrf },
    payload: { title: 'With token' },
  });
  t.equal(ok.body.code, 0);
  const param = await h.call({
    method: 'POST',
    url: '/api/app/create_tag/v1',
    headers: { cookie },
    payload: { title: 'Param', csrf_token: csrf },
  });
  t.equal(param.body.code, 0, 'csrf_token parameter accepted');
  t.notOk('csrf_token' in param.body.tag, 'and never stored');
  t.equal((await h.call({ method: 'GET', url: '/api/app/get_tags/v1', headers: { cookie } })).body.code, 0, 'GET needs no token');
  const user = await h.call({ method: 'POST', url: '/api/user/admin_get_users', headers: { cookie }, payload: {} });
  t.equal(user.body.code, 'session', 'the user namespace too');
  const resume = await h.call({ method: 'POST', url: '/api/user/resume_session', headers: { cookie }, payload: {} });
  t.equal(resume.body.code, 0, 'resume_session skips CSRF (the UI does not know the token yet)');
});

t.test('prototype pollution attempts are refused and pollute nothing', async (t) => {
  const h = await harness(t);
  const session = (h.admin as { session: string }).session;
  for (const body of [
    '{"title":"x","__proto__":{"polluted":true}}',
    '{"title":"x","constructor":{"prototype":{"polluted":true}}}',
    '{"title":"x","notes":"y","params":{"0":1}}',
  ]) {
    const res = await h.call({
      method: 'POST',
      url: '/api/app/create_tag/v1',
      headers: { 'x-session-id': session, 'content-type': 'application/json' },
      body,
    });
    t.equal(res.body.code, 'api', body);
    t.equal(res.status, 400);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  const query = await h.call({ method: 'GET', url: '/api/app/get_tag/v1?id=flag&__proto__[x]=1', headers: { 'x-session-id': session } });
  t.not(query.status, 500);
});
