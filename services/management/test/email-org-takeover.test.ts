// Org takeover through the e-mail address (issue 8, finding 1): a user cannot claim another account's address, a
// self-service change of address never changes the orgs a user belongs to until an administrator confirms it, and
// application ownership and admin grants name a user id. Also: the startup migration of records of the old model.
import { USERS, createApp as createFastify, prepareApp, userKey } from '@shallot/core';
import { LEEK_APPLICATIONS, leekScope } from '@shallot/schemas';
import t, { type Test } from 'tap';
import { managementPlugin } from '../src/plugin.js';
import { type Answer, type Harness, authHeaders, harness } from './helpers.js';

type Session = Record<string, string> & { 'x-session-id': string };

/** A user created the way an administrator does it (admin_create), with a session issued directly. */
async function account(h: Harness, username: string, email: string): Promise<Session> {
  const created = await adminCall(h, 'admin_create', { username, email, full_name: username, password: 'user-password-1' });
  if (created.body.code !== 0) throw new Error(`admin_create ${username}: ${JSON.stringify(created.body)}`);
  return { 'x-session-id': (await h.app.sessions.issue(username)).token };
}

async function v1(h: Harness, who: Session, method: 'GET' | 'POST' | 'DELETE', url: string, app?: string, payload?: unknown) {
  const headers: Record<string, string> = { ...who, ...(app ? { 'x-leek-app-name': app } : {}) };
  const res = await h.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: (res.body === '' ? undefined : res.json()) as Answer };
}

const settings = (h: Harness, who: Session, payload: Record<string, unknown>) =>
  h.call({ method: 'POST', url: '/api/app/user_settings/v1', headers: who, payload });

/** `/api/user/NAME` as the administrator. */
const adminCall = (h: Harness, name: string, payload: Record<string, unknown>) =>
  h.call({ method: 'POST', url: `/api/user/${name}`, headers: authHeaders(h.admin), payload });

const stored = async (h: Harness, username: string) => (await h.ctx.store.collections.get(USERS, userKey(username))) as Answer;

async function world(t: Test) {
  const h = await harness(t);
  const olivia = await account(h, 'olivia', 'olivia@acme.io');
  const mallory = await account(h, 'mallory', 'mallory@evil.io');
  const created = await v1(h, olivia, 'POST', '/v1/applications', undefined, { app_name: 'billing', app_description: 'Invoices' });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  return { h, olivia, mallory, appKey: String(created.body.app_key) };
}

t.test('e-mail takeover: claiming another account’s address is refused at the first step, whatever its spelling', async (t) => {
  const { h, mallory, appKey } = await world(t);
  // Padded spellings fail the schema (no spaces), the others the uniqueness check: refused either way.
  for (const email of [' olivia@acme.io ', '\tOLIVIA@Acme.IO']) {
    t.not((await settings(h, mallory, { email })).body.code, 0, `user_settings ${JSON.stringify(email)} refused`);
  }
  for (const email of ['olivia@acme.io', 'OLIVIA@Acme.IO', 'admin@localhost', 'Admin@LocalHost']) {
    const res = await settings(h, mallory, { email });
    t.equal(res.body.code, 'user', `user_settings ${JSON.stringify(email)} refused`);
    t.match(res.body.description, /used by another account/);
    const update = await h.call({
      method: 'POST',
      url: '/api/user/update',
      headers: mallory,
      payload: { username: 'mallory', old_password: 'user-password-1', email },
    });
    t.equal(update.body.code, 'user', `update ${JSON.stringify(email)} refused`);
  }
  t.equal((await stored(h, 'mallory')).email, 'mallory@evil.io', 'nothing was written');
  // The rest of the chain finds nothing: mallory is still of evil.io only.
  const list = await v1(h, mallory, 'GET', '/v1/applications');
  t.same(list.body, []);
  t.notMatch(JSON.stringify(list.body), appKey, 'the app key of acme.io is not shown');
  t.equal((await v1(h, mallory, 'DELETE', '/v1/applications/purge', 'billing')).body.error.code, 404001);
  t.equal((await v1(h, mallory, 'POST', '/v1/applications/admins/mallory', 'billing')).body.error.code, 404001);
  t.equal((await v1(h, mallory, 'DELETE', '/v1/applications', 'billing')).body.error.code, 404001);
  t.ok(await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing')), 'the app is still there');
});

t.test('e-mail takeover: administrators cannot give one address to two accounts either (create and update)', async (t) => {
  const { h } = await world(t);
  const create = await adminCall(h, 'admin_create', {
    username: 'twin',
    email: 'Olivia@ACME.io',
    full_name: 'Twin',
    password: 'user-password-1',
  });
  t.equal(create.body.code, 'user');
  t.notOk(await stored(h, 'twin'), 'no account created');
  const update = await adminCall(h, 'admin_update', { username: 'mallory', email: 'OLIVIA@acme.io' });
  t.equal(update.body.code, 'user');
  t.equal((await stored(h, 'mallory')).email, 'mallory@evil.io');
  const own = await adminCall(h, 'admin_update', { username: 'olivia', email: 'Olivia@Acme.io' });
  t.equal(own.body.code, 0, 'an account keeps its own address (any spelling)');
  t.equal(own.body.user.email, 'olivia@acme.io', 'stored trimmed and lower-case');
});

t.test('e-mail change by the user: stored as shown, orgs unchanged until an administrator confirms it', async (t) => {
  const { h, olivia, mallory } = await world(t);
  const changed = await settings(h, mallory, { email: 'Mallory@acme.io' });
  t.equal(changed.body.code, 0, 'an unused address is accepted');
  t.equal(changed.body.user.email, 'mallory@acme.io');
  t.equal(changed.body.user.verified_email, 'mallory@evil.io', 'the verified address stays');
  t.same((await v1(h, mallory, 'GET', '/v1/applications')).body, [], 'still evil.io: acme.io apps are not listed');
  const grant = await v1(h, olivia, 'POST', `/v1/applications/admins/${encodeURIComponent('mallory@acme.io')}`, 'billing');
  t.equal(grant.body.error?.code, 400008, 'an unconfirmed address names nobody');
  t.equal((await settings(h, olivia, { email: 'mallory@acme.io' })).body.code, 'user', 'the pending address is taken too');

  const confirmed = await adminCall(h, 'admin_update', { username: 'mallory', verify_email: true });
  t.equal(confirmed.body.code, 0);
  t.equal(confirmed.body.user.verified_email, 'mallory@acme.io');
  const list = await v1(h, mallory, 'GET', '/v1/applications');
  t.same(
    (list.body as unknown as Answer[]).map((a) => a.app_name),
    ['billing'],
    'the confirmed address moves mallory into acme.io',
  );
  t.equal((await v1(h, mallory, 'DELETE', '/v1/applications', 'billing')).body.error.code, 401002, 'a member, not the owner');
  t.equal((await v1(h, mallory, 'DELETE', '/v1/applications/purge', 'billing')).body.error.code, 401002, 'nor an admin');
});

t.test('ownership by user id: the owner lists own apps, grants an admin by user id, and the admin may purge', async (t) => {
  const { h, olivia, appKey } = await world(t);
  const carl = await account(h, 'carl', 'carl@acme.io');
  const list = await v1(h, olivia, 'GET', '/v1/applications');
  t.equal(list.body[0]?.owner, 'olivia');
  t.equal(list.body[0]?.app_key, appKey);
  t.equal((await v1(h, carl, 'DELETE', '/v1/applications/purge', 'billing')).body.error.code, 401002, 'not yet admin');
  const grant = await v1(h, olivia, 'POST', '/v1/applications/admins/carl', 'billing');
  t.equal(grant.status, 200);
  t.match(grant.body.admins, [{ user: 'carl', email: 'carl@acme.io' }]);
  t.equal((await v1(h, carl, 'DELETE', '/v1/applications/purge', 'billing')).status, 200, 'the admin purges');
  // The grant follows the user, not the address: carl changing his shown address keeps it.
  t.equal((await settings(h, carl, { email: 'carl.new@acme.io' })).body.code, 0);
  t.equal((await v1(h, carl, 'DELETE', '/v1/applications/purge', 'billing')).status, 200, 'still admin');
  const revoked = await v1(h, olivia, 'DELETE', '/v1/applications/admins/carl', 'billing');
  t.same(revoked.body.admins, []);
});

t.test('startup migration: legacy addresses become verified unless shared; apps name user ids', async (t) => {
  const h = await harness(t);
  const legacy = (username: string, email: string) =>
    h.ctx.store.collections.create(USERS, {
      id: userKey(username),
      username,
      full_name: username,
      email,
      active: true,
      password: 'x',
      privileges: {},
      roles: [],
      categories: [],
      groups: [],
    });
  await legacy('olivia', 'Olivia@acme.io');
  await legacy('dora', 'dora@acme.io');
  // An earlier takeover left two accounts with one address: neither is trusted with it.
  await legacy('mallory', 'dora@ACME.io');
  await h.ctx.store.collections.create(LEEK_APPLICATIONS, {
    id: leekScope('acme.io', 'billing'),
    org: 'acme.io',
    app_name: 'billing',
    app_description: 'x',
    app_key: 'app-x',
    owner: 'olivia@acme.io',
    created_at: 1,
    fo_triggers: [],
    admins: [
      { email: 'dora@acme.io', since: 1 },
      { email: 'olivia@acme.io', since: 2 },
    ],
  });
  // A restart: the plugin migrates on registration.
  const again = createFastify(h.ctx.config);
  await prepareApp(again, h.ctx, 'management');
  await again.register(managementPlugin, { ctx: h.ctx });
  await again.ready();
  t.teardown(() => again.close());
  t.equal((await stored(h, 'olivia')).verified_email, 'olivia@acme.io');
  t.equal((await stored(h, 'dora')).verified_email, '', 'shared address: unverified');
  t.equal((await stored(h, 'mallory')).verified_email, '');
  const app = (await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'billing'))) as Answer;
  t.equal(app.owner, 'olivia');
  t.same(app.admins, [
    { user: 'unclaimed:dora@acme.io', email: 'dora@acme.io', since: 1 },
    { user: 'olivia', email: 'olivia@acme.io', since: 2 },
  ]);
  const mallory = { 'x-session-id': (await again.sessions.issue('mallory')).token };
  const res = await again.inject({ method: 'GET', url: '/v1/applications', headers: mallory });
  t.equal(res.statusCode, 401, 'no verified address, no org');
});
