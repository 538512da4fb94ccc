/** Effective permissions through roles, and API keys: generated once, stored hashed, scoped, disabled, expiring, rate-limited. */
import { API_KEYS, hashApiKey } from '@shallot/core';
import t from 'tap';
import { harness, makeKey } from './helpers.js';

t.test('an admin creates a role and a user with it; the user can do exactly what the role allows', async (t) => {
  const h = await harness(t);
  const role = await h.api('create_role', { id: 'taggers', title: 'Taggers', privileges: { create_tags: true, edit_tags: true } });
  t.equal(role.body.code, 0);
  const created = await h.call({
    method: 'POST',
    url: '/api/user/admin_create',
    headers: { 'x-session-id': (h.admin as { session: string }).session },
    payload: {
      username: 'tina',
      email: 'tina@example.com',
      full_name: 'Tina',
      password: 'tina-password',
      privileges: {},
      roles: ['taggers'],
    },
  });
  t.equal(created.body.code, 0, JSON.stringify(created.body));
  const tina = { session: await h.login('tina', 'tina-password') };
  t.equal((await h.api('create_tag', { id: 'mine', title: 'Mine' }, tina)).body.code, 0, 'create_tags from the role');
  t.equal((await h.api('update_tag', { id: 'mine', title: 'Still mine' }, tina)).body.code, 0, 'edit_tags from the role');
  t.equal((await h.api('delete_tag', { id: 'mine' }, tina)).body.code, 'access', 'delete_tags not granted');
  t.equal((await h.api('create_category', { title: 'No' }, tina)).body.code, 'access');
  t.equal((await h.api('create_role', { title: 'No' }, tina)).body.code, 'access');
  t.equal((await h.api('get_api_keys', {}, tina)).body.code, 'access', 'API keys are admin only');

  // Disabling the role takes effect on the next call; a role can never remove a direct grant.
  t.equal((await h.api('update_role', { id: 'taggers', enabled: false })).body.code, 0);
  t.equal((await h.api('update_tag', { id: 'mine', title: 'x' }, tina)).body.code, 'access', 'a disabled role contributes nothing');
  t.equal((await h.api('update_role', { id: 'taggers', enabled: true })).body.code, 0);
  t.equal((await h.api('delete_role', { id: 'taggers' })).body.code, 0);
  t.equal((await h.api('update_tag', { id: 'mine', title: 'x' }, tina)).body.code, 'access', 'a deleted role id is ignored');
});

t.test('an API key with one privilege can do that one thing by header, query and JSON property, and nothing else', async (t) => {
  const h = await harness(t);
  const key = await makeKey(h.ctx, { privileges: { create_tags: true } });
  let n = 0;
  const ways = [
    { name: 'header', url: '/api/app/create_tag/v1', headers: { 'x-api-key': key.key }, extra: {} },
    { name: 'query', url: `/api/app/create_tag/v1?api_key=${key.key}`, headers: {}, extra: {} },
    { name: 'JSON property', url: '/api/app/create_tag/v1', headers: {}, extra: { api_key: key.key } },
  ];
  for (const way of ways) {
    const res = await h.call({ method: 'POST', url: way.url, headers: way.headers, payload: { title: `Tag ${++n}`, ...way.extra } });
    t.equal(res.body.code, 0, `${way.name}: ${JSON.stringify(res.body)}`);
    t.equal(res.body.tag.username, key.id, `${way.name}: stamped with the key id`);
    t.notOk('api_key' in res.body.tag, `${way.name}: the key is never stored as a field`);
    const denied = await h.call({
      method: 'POST',
      url: way.url.replace('create_tag', 'create_category'),
      headers: way.headers,
      payload: { title: 'Nope', ...way.extra },
    });
    t.equal(denied.body.code, 'access', `${way.name}: create_category refused`);
    t.match(denied.body.description, /^API Key "Test key" does not have the "Create Categories" privilege/);
  }
  for (const call of ['update_tag', 'delete_tag', 'create_role', 'get_api_keys', 'create_api_key']) {
    const res = await h.api(call, { id: 'important', title: 'x' }, { key: key.key });
    t.equal(res.body.code, 'access', call);
  }
  const user = await h.call({ method: 'POST', url: '/api/user/update', headers: { 'x-api-key': key.key }, payload: {} });
  t.equal(user.body.code, 'session', 'the /api/user namespace refuses API keys');
});

t.test('API key CRUD: generated, shown once, stored hashed, usable, disabled, deleted', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_api_key', {
    title: 'Deploy bot',
    key: 'client-chosen-key-is-ignored',
    privileges: { create_tags: true, edit_tags: false },
    max_per_sec: 0,
  });
  t.equal(created.body.code, 0, JSON.stringify(created.body));
  const plain: string = created.body.plain_key;
  const record = created.body.api_key;
  t.match(plain, /^[\w-]{43}$/, '32 random bytes, url-safe base64');
  t.not(plain, 'client-chosen-key-is-ignored');
  t.match(record.id, /^k[a-z0-9]{15}$/);
  t.equal(record.mask, `${plain.slice(0, 4)}********${plain.slice(-4)}`);
  t.same(record.privileges, { create_tags: true });
  t.equal(record.active, true);
  t.notOk('key_hash' in record, 'the hash is not answered');
  t.equal(record.key, hashApiKey(plain), 'key is the SHA-256 hex of the plain key (as xyOps shows it)');
  const stored = await h.ctx.store.collections.get(API_KEYS, record.id);
  t.equal(stored?.key_hash, hashApiKey(plain), 'stored as sha256 hex');
  t.notOk(JSON.stringify(stored).includes(plain), 'the plain key is stored nowhere');

  const got = await h.api('get_api_key', { id: record.id });
  t.notOk('plain_key' in got.body, 'shown once only');
  t.notOk(JSON.stringify(got.body).includes(plain));
  const list = await h.api('get_api_keys', {});
  t.equal(list.body.list.length, 1);
  t.notOk(JSON.stringify(list.body).includes(plain));

  t.equal((await h.api('create_tag', { title: 'By key' }, { key: plain })).body.code, 0, 'the new key works');
  const updated = await h.api('update_api_key', { id: record.id, title: 'Renamed', key: 'attempt-to-set' });
  t.same(updated.body, { code: 0 });
  t.equal((await h.ctx.store.collections.get(API_KEYS, record.id))?.key_hash, hashApiKey(plain), 'the key cannot change');
  t.equal((await h.api('create_tag', { title: 'Still' }, { key: plain })).body.code, 0);

  t.equal((await h.api('update_api_key', { id: record.id, active: false })).body.code, 0);
  const disabled = await h.api('create_tag', { title: 'Disabled' }, { key: plain });
  t.same(disabled.body, { code: 'session', description: 'Invalid API Key' });
  t.equal(disabled.status, 403);
  t.equal((await h.api('update_api_key', { id: record.id, active: 1 })).body.code, 0);
  t.equal((await h.api('create_tag', { title: 'Again' }, { key: plain })).body.code, 0, 'enabled again');
  t.equal((await h.api('delete_api_key', { id: record.id })).body.code, 0);
  t.equal((await h.api('create_tag', { title: 'Gone' }, { key: plain })).body.code, 'session');
  const activity = await h.ctx.store.indexes.search('activity', '', {
    query: { prefix: { field: 'action', value: 'apikey_' } },
    limit: 10,
  });
  t.same(activity.hits.map((r) => r.action).sort(), ['apikey_create', 'apikey_delete', 'apikey_update', 'apikey_update', 'apikey_update']);
  t.notOk(JSON.stringify(activity.hits).includes(plain), 'no plain key in the activity log');
  t.notOk(JSON.stringify(activity.hits).includes(hashApiKey(plain)), 'no hash in the activity log');
});

t.test('API keys: expired keys refused, max_per_sec enforced, category restrictions apply', async (t) => {
  const h = await harness(t);
  const expired = await makeKey(h.ctx, { privileges: { admin: true }, expires: Math.floor(Date.now() / 1000) - 10 });
  t.same((await h.api('get_tags', {}, { key: expired.key })).body, { code: 'session', description: 'API Key has expired' });
  const created = await h.api('create_api_key', { title: 'Limited', max_per_sec: 2 });
  const plain = created.body.plain_key;
  // Three calls inside one wall-clock second: the third is over the limit.
  const start = Date.now();
  while (Date.now() % 1000 > 600) await new Promise((r) => setTimeout(r, 50));
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await h.api('get_tags', {}, { key: plain }));
  if (Date.now() - start < 1000) {
    t.same(
      answers.map((a) => a.body.code),
      [0, 0, 'rate'],
    );
    t.equal(answers[2]?.status, 429);
  }
  const restricted = await h.api('create_api_key', { title: 'Ops only', categories: ['general'], privileges: { edit_categories: true } });
  t.equal(restricted.body.code, 0);
  await h.api('create_category', { id: 'other', title: 'Other' });
  const rows = await h.api('get_categories', {}, { key: restricted.body.plain_key });
  t.same(
    rows.body.rows.map((r: { id: string }) => r.id),
    ['general'],
  );
  t.equal((await h.api('update_category', { id: 'other', title: 'x' }, { key: restricted.body.plain_key })).body.code, 'access');
});

t.test('API key validation: title required, bad types refused, unknown id api_key', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('create_api_key', {})).body.code, 'api');
  t.equal((await h.api('create_api_key', { title: 'x', expires: 'soon' })).body.code, 'api');
  t.equal((await h.api('create_api_key', { title: 'x', key_hash: 'abc' })).body.code, 'api', 'the hash cannot be set');
  t.equal((await h.api('update_api_key', { id: 'knotthere', title: 'x' })).body.code, 'api_key');
});
