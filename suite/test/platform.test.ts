/**
 * The REST platform end to end through the suite's one port: roles, users and API keys doing exactly what they are
 * granted, and a secret that only decrypt_secret ever answers.
 */
import type { AddressInfo } from 'node:net';
import { ACTIVITY_INDEX } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import t from 'tap';
import { buildSuite } from '../src/suite.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;

t.test('platform: a role, a user with it, an API key with one privilege, and a secret', async (t) => {
  const ctx = await testContext(t);
  const suite = await buildSuite(ctx);
  await suite.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => suite.close());
  const base = `http://127.0.0.1:${(suite.server.address() as AddressInfo).port}`;
  const call = async (path: string, headers: Record<string, string>, body?: Json, method = 'POST') => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const loginAs = async (username: string, password: string) => {
    const answer = await call('/api/user/login', {}, { username, password });
    t.equal(answer.body.code, 0, `${username} logs in`);
    return { 'x-session-id': String(answer.body.session_id) };
  };
  const admin = await loginAs('admin', 'admin-test-password');

  // An admin creates a role and a user with that role.
  const role = await call('/api/app/create_role/v1', admin, {
    id: 'catalogers',
    title: 'Catalogers',
    privileges: { create_categories: true },
  });
  t.equal(role.body.code, 0, JSON.stringify(role.body));
  const user = await call('/api/user/admin_create', admin, {
    username: 'casey',
    email: 'casey@example.com',
    full_name: 'Casey',
    password: 'casey-password-1',
    roles: ['catalogers'],
  });
  t.equal(user.body.code, 0, JSON.stringify(user.body));

  // The user can do exactly what the role allows.
  const casey = await loginAs('casey', 'casey-password-1');
  const made = await call('/api/app/create_category/v1', casey, { id: 'reports', title: 'Reports' });
  t.equal(made.body.code, 0, 'the role grants create_categories');
  const edit = await call('/api/app/update_category/v1', casey, { id: 'reports', title: 'Renamed' });
  t.equal(edit.status, 403);
  t.equal(edit.body.code, 'access', 'but not edit_categories');
  const tag = await call('/api/app/create_tag/v1', casey, { id: 'urgent', title: 'Urgent' });
  t.equal(tag.body.code, 'access', 'nor anything else');
  const roles = await call('/api/app/create_role/v1', casey, { id: 'mine', title: 'Mine', privileges: { admin: true } });
  t.equal(roles.body.code, 'access', 'and cannot grant itself more');

  // An API key with one privilege does that one thing by header, query and JSON property, and nothing else.
  const key = await call('/api/app/create_api_key/v1', admin, { title: 'Tagger', privileges: { create_tags: true } });
  const plain = String(key.body.plain_key);
  t.equal((await call('/api/app/create_tag/v1', { 'x-api-key': plain }, { id: 'by_header', title: 'A' })).body.code, 0);
  t.equal((await call(`/api/app/create_tag/v1?api_key=${encodeURIComponent(plain)}`, {}, { id: 'by_query', title: 'B' })).body.code, 0);
  t.equal((await call('/api/app/create_tag/v1', {}, { api_key: plain, id: 'by_body', title: 'C' })).body.code, 0);
  const tags = await call('/api/app/get_tags/v1', admin, {});
  t.same(
    (tags.body.rows as Json[])
      .map((r) => r.id)
      .filter((id: string) => id.startsWith('by_'))
      .sort(),
    ['by_body', 'by_header', 'by_query'],
  );
  const beyond = await call('/api/app/create_category/v1', { 'x-api-key': plain }, { id: 'nope', title: 'Nope' });
  t.equal(beyond.status, 403);
  t.equal(beyond.body.code, 'access');
  t.equal((await call('/api/app/delete_tag/v1', { 'x-api-key': plain }, { id: 'by_body' })).body.code, 'access');

  // A secret round-trips only through decrypt_secret.
  const secret = await call('/api/app/create_secret/v1', admin, {
    title: 'Mail',
    fields: [{ name: 'SMTP_PASSWORD', value: 'hunter2-s3cret' }],
  });
  t.equal(secret.body.code, 0, JSON.stringify(secret.body));
  const id = String(secret.body.secret?.id ?? secret.body.id);
  const got = await call('/api/app/get_secret/v1', admin, { id });
  const listed = await call('/api/app/get_secrets/v1', admin, {});
  const activity = await ctx.store.indexes.search(ACTIVITY_INDEX.name, '', { limit: 1000 });
  t.ok(
    activity.hits.some((row) => row.action === 'secret_create'),
    'the creation of the secret is in the activity log',
  );
  for (const [where, text] of [
    ['create answer', JSON.stringify(secret.body)],
    ['get_secret', JSON.stringify(got.body)],
    ['get_secrets', JSON.stringify(listed.body)],
    ['activity', JSON.stringify(activity.hits)],
  ] as const) {
    t.notMatch(text, /hunter2-s3cret/, `the value is not in ${where}`);
  }
  t.same(got.body.secret?.names, ['SMTP_PASSWORD'], 'names are metadata');
  const decrypted = await call('/api/app/decrypt_secret/v1', admin, { id });
  t.same(decrypted.body.fields, [{ name: 'SMTP_PASSWORD', value: 'hunter2-s3cret' }]);
  const denied = await call('/api/app/decrypt_secret/v1', casey, { id });
  t.equal(denied.body.code, 'access', 'decrypting needs admin');
});
