import t from 'tap';
import { ADMIN_PASSWORD, harness, makeUser } from './helpers.js';

const BUNDLE_KEYS = [
  'epoch',
  'activeJobs',
  'internalJobs',
  'numQueuedJobs',
  'socketNav',
  'activeAlerts',
  'serverCache',
  'servers',
  'groups',
  'monitors',
  'alerts',
  'categories',
  'channels',
  'web_hooks',
  'buckets',
  'secrets',
  'events',
  'plugins',
  'tags',
  'roles',
  'users',
  'api_keys',
  'state',
  'stats',
  'sounds',
];

t.test('login answers the bootstrap bundle: every key, definitions, user stubs and redacted API keys', async (t) => {
  const h = await harness(t);
  const key = await h.api('create_api_key', { title: 'Bundle key', privileges: {} });
  t.equal(key.body.code, 0);
  const { body } = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  t.equal(body.code, 0);
  for (const name of BUNDLE_KEYS) t.ok(name in body, `${name} is in the bundle`);
  t.ok(Math.abs(body.epoch - Date.now() / 1000) < 60, 'epoch is now');
  t.ok(
    body.categories.some((c: { id: string }) => c.id === 'general'),
    'seeded categories',
  );
  t.ok(
    body.groups.some((g: { id: string }) => g.id === 'main'),
    'seeded groups',
  );
  t.ok(body.plugins.length > 0, 'seeded plugins');
  t.same(
    body.users.map((u: { username: string }) => u.username),
    ['admin'],
  );
  t.ok(
    body.users.every((u: object) => Object.keys(u).every((k) => ['username', 'full_name', 'icon', 'roles'].includes(k))),
    'users are stubs',
  );
  t.notMatch(JSON.stringify(body.users), /scrypt|password/, 'no password hash in user stubs');
  const apiKey = body.api_keys.find((k: { title: string }) => k.title === 'Bundle key');
  t.equal(apiKey?.key, 'REDACTED');
  t.notOk('key_hash' in (apiKey ?? {}), 'the key hash is never answered');
});

t.test('the bundle is filtered by the user’s category and group scope', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('create_category', { id: 'reports', title: 'Reports' })).body.code, 0);
  t.equal((await h.api('create_group', { id: 'dbs', title: 'Databases', hostname_match: '^db' })).body.code, 0);
  await makeUser(h.ctx, 'narrow', { categories: ['reports'], groups: ['dbs'] });
  const { body } = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'narrow', password: 'user-password-1' } });
  t.equal(body.code, 0);
  t.same(
    body.categories.map((c: { id: string }) => c.id),
    ['reports'],
  );
  t.same(
    body.groups.map((g: { id: string }) => g.id),
    ['dbs'],
  );
  const resumed = await h.call({
    method: 'POST',
    url: '/api/user/resume_session',
    headers: { 'x-session-id': body.session_id },
    payload: {},
  });
  t.same(
    resumed.body.categories.map((c: { id: string }) => c.id),
    ['reports'],
    'resume_session answers the same bundle',
  );
});
