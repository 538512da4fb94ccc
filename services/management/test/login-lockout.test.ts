// Lockout as a denial of service (issue 8, finding 6): the spec's lockout (more than 5 failures in an hour) holds
// per (user, client address), ends by itself, never shuts out the last active administrator, and answers alike for
// known and unknown usernames.
import { USERS, userKey } from '@shallot/core';
import t from 'tap';
import { ADMIN_PASSWORD, type Harness, harness, makeUser } from './helpers.js';

const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';
const INCORRECT = { code: 'login', description: 'Username or password incorrect' };
const LOCKED = { code: 'login', description: 'Account is locked out' };

const login = (h: Harness, username: string, password: string, remoteAddress: string) =>
  h.call({ method: 'POST', url: '/api/user/login', payload: { username, password }, remoteAddress });

t.test('lockout: six wrong passwords from one address lock that address only; the owner logs in from theirs', async (t) => {
  const h = await harness(t);
  for (let i = 0; i < 6; i++) t.same((await login(h, 'admin', `guess-${i}`, ATTACKER)).body, INCORRECT);
  t.same((await login(h, 'admin', ADMIN_PASSWORD, ATTACKER)).body, LOCKED, 'the attacker’s address is locked, right password or not');
  const own = await login(h, 'admin', ADMIN_PASSWORD, OWNER);
  t.equal(own.body.code, 0, 'the administrator is not locked out from their own address');
  const stored = await h.ctx.store.collections.get(USERS, userKey('admin'));
  t.not(stored?.force_password_reset, true, 'failed logins no longer set force_password_reset');
  t.equal(stored?.fl_count, 6, 'the spec’s counter is kept');
});

t.test('lockout: released by time (SHALLOT_LOGIN_LOCKOUT_SECONDS); an administrator’s unlock clears every address', async (t) => {
  const h = await harness(t, { loginLockoutSeconds: 1 });
  await makeUser(h.ctx, 'target', {}, 'right-password');
  for (const address of [ATTACKER, OWNER]) {
    for (let i = 0; i < 6; i++) await login(h, 'target', `guess-${i}`, address);
    t.same((await login(h, 'target', 'right-password', address)).body, LOCKED, `${address} locked`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal((await login(h, 'target', 'right-password', OWNER)).body.code, 0, 'the lock ends by itself');
  // Still over the hour's limit: the next failure locks again at once.
  t.same((await login(h, 'target', 'guess-7', ATTACKER)).body, INCORRECT);
  t.same((await login(h, 'target', 'right-password', ATTACKER)).body, LOCKED);
  const unlock = await h.call({
    method: 'POST',
    url: '/api/user/admin_update',
    headers: { 'x-session-id': (h.admin as { session: string }).session },
    payload: { username: 'target', unlock: true },
  });
  t.equal(unlock.body.code, 0);
  t.equal((await login(h, 'target', 'right-password', ATTACKER)).body.code, 0, 'unlock clears the locks of every address');
});

t.test('lockout: unknown and known usernames get the same answers, locked included', async (t) => {
  const h = await harness(t);
  await makeUser(h.ctx, 'known', {}, 'right-password');
  const answers: Record<string, unknown[]> = { known: [], ghost: [] };
  for (const name of ['known', 'ghost']) {
    for (let i = 0; i < 8; i++) {
      const res = await login(h, name, `guess-${i}`, ATTACKER);
      answers[name]?.push({ status: res.status, body: res.body });
    }
  }
  t.same(answers.ghost, answers.known, 'the same sequence of answers');
  t.same(answers.ghost?.[7], { status: 200, body: LOCKED }, 'an unknown name locks too');
});

t.test('lockout: force_password_reset never shuts out the last active administrator', async (t) => {
  const h = await harness(t);
  const flag = (username: string) =>
    h.ctx.store.collections.patchMany(USERS, [{ id: userKey(username), fields: { force_password_reset: true } }]);
  await flag('admin');
  t.equal((await login(h, 'admin', ADMIN_PASSWORD, OWNER)).body.code, 0, 'the only administrator still logs in');
  t.same((await login(h, 'admin', 'wrong', OWNER)).body, INCORRECT, 'with the right password only');
  // With a second active administrator, the flag locks as the spec says.
  await makeUser(h.ctx, 'deputy', { privileges: { admin: true } }, 'deputy-password');
  t.same((await login(h, 'admin', ADMIN_PASSWORD, OWNER)).body, LOCKED);
  // A disabled administrator does not count.
  await h.ctx.store.collections.patchMany(USERS, [{ id: 'deputy', fields: { active: false } }]);
  t.equal((await login(h, 'admin', ADMIN_PASSWORD, OWNER)).body.code, 0);
  // An ordinary user stays locked by the flag.
  await makeUser(h.ctx, 'pat', {}, 'pat-password');
  await flag('pat');
  t.same((await login(h, 'pat', 'pat-password', OWNER)).body, LOCKED);
});

t.test('lockout: behind the gateway, the address it appended counts, not a client’s claim before it', async (t) => {
  const h = await harness(t);
  const viaGateway = (password: string, forwardedFor: string) =>
    h.call({
      method: 'POST',
      url: '/api/user/login',
      payload: { username: 'admin', password },
      remoteAddress: '10.0.0.2',
      headers: { 'x-forwarded-for': forwardedFor },
    });
  for (let i = 0; i < 6; i++) await viaGateway(`guess-${i}`, `192.0.2.${i + 1}, ${ATTACKER}`);
  t.same((await viaGateway(ADMIN_PASSWORD, `192.0.2.99, ${ATTACKER}`)).body, LOCKED, 'a fresh claimed address escapes nothing');
  t.equal((await viaGateway(ADMIN_PASSWORD, OWNER)).body.code, 0, 'another client through the same gateway logs in');
});
