/** Users (api-sections §8): administration, self-service, recovery, lockout, settings, security log. */
import { ACTIVITY_INDEX, USERS } from '@shallot/core';
import t from 'tap';
import { capturingMailer, harness, makeKey, makeUser } from './helpers.js';

const user = (name: string, extra: Record<string, unknown> = {}) => ({
  username: name,
  email: `${name}@example.com`,
  full_name: `${name} Person`,
  password: 'a-good-password',
  ...extra,
});

t.test('admin_create → admin_get_user → admin_get_users → admin_update → admin_delete', async (t) => {
  const h = await harness(t);
  const created = await h.call({
    method: 'POST',
    url: '/api/user/admin_create',
    headers: { 'x-session-id': session(h) },
    payload: user('jane.doe'),
  });
  t.equal(created.body.code, 0, JSON.stringify(created.body));
  t.equal(created.body.user.username, 'jane.doe');
  t.equal(created.body.user.active, true, 'always active on create');
  t.same(
    Object.keys(created.body.user.privileges).sort(),
    ['create_events', 'create_tickets', 'edit_events', 'edit_tickets', 'run_jobs', 'tag_jobs'],
    'default_user_privileges when none are given',
  );
  t.notOk('password' in created.body.user, 'no password hash answered');
  const stored = await h.ctx.store.collections.get(USERS, 'janedoe');
  t.match(stored?.password, /^scrypt\$/, 'stored as a scrypt hash under the normalised key');

  const dup = await userCall(h, 'admin_create', user('janedoe'));
  t.equal(dup.body.code, 'user_exists', 'a username that normalises to an existing key is refused');
  t.equal((await userCall(h, 'admin_create', user('bad name'))).body.code, 'api');
  t.equal((await userCall(h, 'admin_create', user('x', { email: 'not-an-email' }))).body.code, 'api');
  t.equal((await userCall(h, 'admin_create', { username: 'noemail', password: 'a-good-password', full_name: 'N' })).body.code, 'api');

  const got = await userCall(h, 'admin_get_user', { username: 'jane.doe' });
  t.equal(got.body.user.email, 'jane.doe@example.com');
  t.equal((await userCall(h, 'admin_get_user', { username: 'nobody' })).body.code, 'user');
  const list = await h.call({ method: 'GET', url: '/api/user/admin_get_users?limit=1', headers: { 'x-session-id': session(h) } });
  t.equal(list.body.rows.length, 1);
  t.equal(list.body.list.length, 2, 'admin and jane.doe');

  const updated = await userCall(h, 'admin_update', {
    username: 'jane.doe',
    privileges: { admin: true, run_jobs: false },
    categories: ['general'],
    full_name: '<b>Jane</b>',
  });
  t.equal(updated.body.code, 0, JSON.stringify(updated.body));
  t.same(updated.body.user.privileges, { admin: true }, 'false grants dropped');
  t.same(updated.body.user.categories, [], 'an admin is never restricted');
  t.equal(updated.body.user.full_name, 'Jane', 'HTML stripped from the name');

  const janeLogin = await h.login('jane.doe', 'a-good-password');
  const deleted = await userCall(h, 'admin_delete', { username: 'jane.doe' });
  t.same(deleted.body, { code: 0 });
  t.equal((await userCall(h, 'admin_get_user', { username: 'jane.doe' })).body.code, 'user');
  const after = await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': janeLogin } });
  t.equal(after.body.code, 'session', 'the deleted user’s sessions end');
  const actions = await actionsOf(h, 'janedoe');
  t.ok(
    ['user_create', 'user_update', 'user_delete', 'user_login'].every((a) => actions.includes(a)),
    actions.join(),
  );
});

t.test('admin_* calls: non-admins get code user; admin API keys work; /api/app aliases exist', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'plain', { privileges: { create_events: true } });
  const plain = await h.login('plain', 'user-password-1');
  const res = await h.call({ method: 'POST', url: '/api/user/admin_get_users', headers: { 'x-session-id': plain }, payload: {} });
  t.same(res.body, { code: 'user', description: 'User is not an administrator' });
  t.equal(res.status, 200, '/api/user has no version: errors are HTTP 200');
  const weakKey = await makeKey(h.ctx, { privileges: { create_events: true } });
  t.equal(
    (await h.call({ method: 'POST', url: '/api/user/admin_get_users', headers: { 'x-api-key': weakKey.key }, payload: {} })).body.code,
    'user',
  );

  const adminKey = await makeKey(h.ctx, { privileges: { admin: true } });
  const viaKey = await h.call({
    method: 'POST',
    url: '/api/user/admin_create',
    headers: { 'x-api-key': adminKey.key },
    payload: user('bykey'),
  });
  t.equal(viaKey.body.code, 0, 'an admin API key may administer users');
  const alias = await h.api('update_user', { username: 'bykey', active: false }, { key: adminKey.key });
  t.equal(alias.body.user.active, false);
  t.equal((await h.api('create_user', user('byalias'))).body.code, 0);
  t.equal((await h.api('delete_user', { username: 'byalias' })).body.code, 0);
  t.equal((await h.api('create_user', user('x2'), { key: weakKey.key })).body.code, 'access');
  // A disabled user cannot log in.
  const login = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'bykey', password: 'a-good-password' } });
  t.equal(login.body.code, 'login');
  t.equal(login.body.description, 'User account is disabled');
});

t.test('update (self): old password required; grants, restrictions and state are ignored', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'sam', { privileges: { run_jobs: true }, categories: ['general'] }, 'old-password-1');
  const sam = await h.login('sam', 'old-password-1');
  const headers = { 'x-session-id': sam };
  const wrong = await h.call({
    method: 'POST',
    url: '/api/user/update',
    headers,
    payload: { username: 'sam', old_password: 'nope', full_name: 'X' },
  });
  t.same(wrong.body, { code: 'user', description: 'Your password is incorrect' });
  const other = await h.call({
    method: 'POST',
    url: '/api/user/update',
    headers,
    payload: { username: 'admin', old_password: 'old-password-1' },
  });
  t.equal(other.body.code, 'user', 'only your own account');
  const res = await h.call({
    method: 'POST',
    url: '/api/user/update',
    headers,
    payload: {
      username: 'sam',
      old_password: 'old-password-1',
      full_name: 'Samuel',
      volume: 3,
      privileges: { admin: true },
      roles: ['all'],
      categories: [],
      groups: ['main'],
      active: false,
      force_password_reset: false,
    },
  });
  t.equal(res.body.code, 0, JSON.stringify(res.body));
  t.equal(res.body.user.full_name, 'Samuel');
  t.equal(res.body.user.volume, 3);
  const stored = await h.ctx.store.collections.get(USERS, 'sam');
  t.same(stored?.privileges, { run_jobs: true }, 'privileges unchanged');
  t.same(stored?.roles, []);
  t.same(stored?.categories, ['general'], 'restriction kept');
  t.same(stored?.groups, []);
  t.equal(stored?.active, true);
  // API keys cannot use the session namespace.
  const key = await makeKey(h.ctx, { privileges: { admin: true } });
  const byKey = await h.call({
    method: 'POST',
    url: '/api/user/update',
    headers: { 'x-api-key': key.key },
    payload: { username: 'sam', old_password: 'old-password-1' },
  });
  t.equal(byKey.body.code, 'session');
});

t.test('update (self) with new_password: other sessions end, this one stays, security log written', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'kim', {}, 'first-password');
  const current = await h.login('kim', 'first-password');
  const other = await h.login('kim', 'first-password');
  const res = await h.call({
    method: 'POST',
    url: '/api/user/update',
    headers: { 'x-session-id': current },
    payload: { username: 'kim', old_password: 'first-password', new_password: 'second-password' },
  });
  t.equal(res.body.code, 0);
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': other } })).body.code, 'session');
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': current } })).body.code, 0);
  t.equal(
    (await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'kim', password: 'first-password' } })).body.code,
    'login',
  );
  t.ok(await h.login('kim', 'second-password'));
  const log = await h.api('get_user_activity', {}, { session: current });
  t.same(
    log.body.rows.map((r: { action: string }) => r.action),
    ['user_login', 'user_password', 'user_login', 'user_login'].slice(0, log.body.rows.length),
  );
  t.equal(log.body.list.length, 4);
  t.notOk(JSON.stringify(log.body).includes(current), 'session tokens never reach the log');
  t.equal(log.body.rows[0].useragent, 'lightMyRequest');
});

t.test('delete (self): password required; the account and its sessions are gone', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'leaver', {}, 'leaver-password');
  const s = await h.login('leaver', 'leaver-password');
  const headers = { 'x-session-id': s };
  t.equal(
    (await h.call({ method: 'POST', url: '/api/user/delete', headers, payload: { username: 'leaver', password: 'x' } })).body.code,
    'user',
  );
  const res = await h.call({
    method: 'POST',
    url: '/api/user/delete',
    headers,
    payload: { username: 'leaver', password: 'leaver-password' },
  });
  t.same(res.body, { code: 0 });
  t.notOk(await h.ctx.store.collections.get(USERS, 'leaver'));
  t.equal((await h.call({ method: 'GET', url: '/api/app/echo/v1', headers })).body.code, 'session');
  const { total } = await h.ctx.store.indexes.search('user_activity', '', { query: { term: { field: 'owner', value: 'leaver' } } });
  t.equal(total, 0, 'security log deleted');
});

t.test('self-signup is off', async (t) => {
  const h = await harness(t);
  const res = await h.call({ method: 'POST', url: '/api/user/create', payload: user('newbie') });
  t.same(res.body, { code: 'user', description: 'Only administrators can create new users' });
});

t.test('forgot_password + reset_password: one-use key by e-mail, stored hashed; lockout cleared', async (t) => {
  const mailer = capturingMailer();
  const h = await harness(t, {}, { mailer });
  await makeUser(h.ctx, 'lost', {}, 'forgotten-password');
  await h.ctx.store.collections.patchMany(USERS, [{ id: 'lost', fields: { force_password_reset: true } }]);
  const session = await h.ctx.store.collections.get(USERS, 'lost');
  t.ok(session);
  for (const payload of [
    { username: 'nobody', email: 'x@example.com' },
    { username: 'lost', email: 'wrong@example.com' },
  ]) {
    t.same((await h.call({ method: 'POST', url: '/api/user/forgot_password', payload })).body, { code: 0 }, 'same answer for misses');
  }
  t.equal(mailer.sent.length, 0);
  const ok = await h.call({ method: 'POST', url: '/api/user/forgot_password', payload: { username: 'lost', email: 'LOST@example.com' } });
  t.same(ok.body, { code: 0 });
  t.equal(mailer.sent.length, 1);
  t.equal(mailer.sent[0]?.to, 'lost@example.com');
  const key = /key ([0-9a-f]{64})/.exec(mailer.sent[0]?.body ?? '')?.[1] ?? '';
  t.match(key, /^[0-9a-f]{64}$/);
  const stored = await h.ctx.store.collections.get('password_resets', 'lost');
  t.not(stored?.key_hash, key, 'only the hash is stored');

  const bad = await h.call({
    method: 'POST',
    url: '/api/user/reset_password',
    payload: { username: 'lost', new_password: 'brand-new-pass', key: 'f'.repeat(64) },
  });
  t.same(bad.body, { code: 'login', description: 'Password reset failed.' });
  const wrongUser = await h.call({
    method: 'POST',
    url: '/api/user/reset_password',
    payload: { username: 'admin', new_password: 'brand-new-pass', key },
  });
  t.equal(wrongUser.body.code, 'login', 'the key belongs to one user');
  const good = await h.call({
    method: 'POST',
    url: '/api/user/reset_password',
    payload: { username: 'lost', new_password: 'brand-new-pass', key },
  });
  t.same(good.body, { code: 0 });
  const again = await h.call({
    method: 'POST',
    url: '/api/user/reset_password',
    payload: { username: 'lost', new_password: 'other-new-pass', key },
  });
  t.equal(again.body.code, 'login', 'one use only');
  t.ok(await h.login('lost', 'brand-new-pass'), 'the lockout is cleared and the new password works');
  // Throttled: at most 3 recovery e-mails per hour.
  for (let i = 0; i < 4; i++)
    await h.call({ method: 'POST', url: '/api/user/forgot_password', payload: { username: 'lost', email: 'lost@example.com' } });
  t.equal(mailer.sent.length, 3, 'the fourth request of the hour sends nothing');
});

t.test('login: more than 5 failures in an hour lock the account from that address until unlocked; user_login logged', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'target', {}, 'right-password');
  for (let i = 0; i < 6; i++) {
    const res = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'target', password: `guess-${i}` } });
    t.same(res.body, { code: 'login', description: 'Username or password incorrect' });
  }
  const locked = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'target', password: 'right-password' } });
  t.same(locked.body, { code: 'login', description: 'Account is locked out' }, 'even the right password is refused');
  const unlock = await userCall(h, 'admin_update', { username: 'target', unlock: true });
  t.equal(unlock.body.code, 0);
  const token = await h.login('target', 'right-password');
  const rows = await h.ctx.store.indexes.search(ACTIVITY_INDEX.name, '', {
    query: { bool: { must: [{ term: { field: 'action', value: 'user_login' } }, { term: { field: 'username', value: 'target' } }] } },
  });
  t.equal(rows.total, 1);
  t.match(rows.hits[0]?.session_id, /^[0-9a-f]{64}$/, 'the stored session id (its hash)');
  t.not(rows.hits[0]?.session_id, token, 'not the id the client holds');
});

t.test('user_settings: preferences saved; privileged keys ignored; not for API keys', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'pat', { categories: ['general'] });
  const s = { session: await h.login('pat', 'user-password-1') };
  const res = await h.api(
    'user_settings',
    { hour_cycle: 'h24', privileges: { admin: true }, active: false, categories: [], password: 'x', full_name: 'Pat <i>P</i>' },
    s,
  );
  t.equal(res.body.code, 0, JSON.stringify(res.body));
  t.equal(res.body.user.hour_cycle, 'h24');
  t.equal(res.body.user.full_name, 'Pat P');
  const stored = await h.ctx.store.collections.get(USERS, 'pat');
  t.same(stored?.privileges, {});
  t.same(stored?.categories, ['general']);
  t.equal(stored?.active, true);
  t.equal((await h.api('user_settings', { hour_cycle: 'h99' }, s)).body.code, 'api');
  t.equal((await h.api('user_settings', { __proto__: { admin: true }, constructor: 1 }, s)).body.code, 'api');
  const key = await makeKey(h.ctx, { privileges: { admin: true } });
  t.equal((await h.api('user_settings', { hour_cycle: 'h24' }, { key: key.key })).body.code, 'session');
});

t.test('check_user_exists and get_user_activity', async (t) => {
  const h = await harness(t);
  t.same((await h.api('check_user_exists', { username: 'admin' })).body, { code: 0, user_exists: true });
  t.same((await h.api('check_user_exists', { username: 'Ad.min' })).body, { code: 0, user_exists: true }, 'normalised');
  t.same((await h.api('check_user_exists', { username: 'ghost' })).body, { code: 0, user_exists: false });
  const key = await makeKey(h.ctx, {});
  t.same((await h.api('get_user_activity', {}, { key: key.key })).body, { code: 0, rows: [], list: { length: 0 } });
  t.equal((await h.call({ method: 'GET', url: '/api/app/check_user_exists/v1?username=admin' })).body.code, 'session');
});

function session(h: { admin: unknown }): string {
  return (h.admin as { session: string }).session;
}

async function userCall(h: Awaited<ReturnType<typeof harness>>, name: string, payload: Record<string, unknown>) {
  return h.call({ method: 'POST', url: `/api/user/${name}`, headers: { 'x-session-id': session(h) }, payload });
}

async function actionsOf(h: Awaited<ReturnType<typeof harness>>, key: string): Promise<string[]> {
  const { hits } = await h.ctx.store.indexes.search(ACTIVITY_INDEX.name, '', {
    query: { term: { field: 'keywords', value: key } },
    limit: 100,
  });
  return hits.map((r) => String(r.action));
}
