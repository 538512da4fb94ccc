import { Writable } from 'node:stream';
import { createApp, prepareApp } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { API } from '@shallot/schemas';
import t from 'tap';
import { managementPlugin } from '../src/plugin.js';
import { managementRoutes } from '../src/routes/index.js';
import { crudTable, harness, makeKey, userSession } from './crud-table.js';
import { ADMIN_PASSWORD } from './helpers.js';

const VALUE = 'pa55-w0rd-XYZZY-8841';
const OTHER = 'second-value-QUUX-1177';

crudTable(t, {
  singular: 'secret',
  plural: 'secrets',
  create: { title: 'Database', notes: 'prod db', events: ['nightly'], fields: [{ name: 'DB_PASSWORD', value: VALUE }] },
  update: { title: 'Database (prod)', plugins: ['shellplug'] },
  required: ['title'],
  wrongType: {
    fields: [{ name: 'A', value: 1 }],
    events: 'nightly',
    web_hooks: [{ id: 'x' }],
    names: 'DB_PASSWORD',
  },
  privileges: { create: 'admin', edit: 'admin', delete: 'admin' },
  unknownUpdateCode: 'secret',
  defaults: { enabled: true, icon: '', categories: [], web_hooks: [], names: ['DB_PASSWORD'] },
});

t.test('secrets: values round-trip only through decrypt_secret; names are derived; updates re-encrypt or keep', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_secret', {
    title: 'Creds',
    names: ['IGNORED'],
    fields: [
      { name: 'DB_PASSWORD', value: VALUE },
      { name: 'TOKEN', value: OTHER },
    ],
  });
  t.equal(created.body.code, 0);
  const secret = created.body.secret;
  t.match(secret.id, /^z/);
  t.same(secret.names, ['DB_PASSWORD', 'TOKEN'], 'names come from fields, not from the request');
  t.notOk('fields' in secret);
  t.same((await h.api('decrypt_secret', { id: secret.id })).body, {
    code: 0,
    fields: [
      { name: 'DB_PASSWORD', value: VALUE },
      { name: 'TOKEN', value: OTHER },
    ],
  });
  // Without fields the values stay; with fields they are replaced whole.
  t.equal((await h.api('update_secret', { id: secret.id, title: 'Creds 2' })).body.code, 0);
  t.same(
    (await h.api('decrypt_secret', { id: secret.id })).body.fields.map((f: { value: string }) => f.value),
    [VALUE, OTHER],
  );
  t.equal((await h.api('update_secret', { id: secret.id, fields: [{ name: 'ONLY', value: 'new-value-1' }] })).body.code, 0);
  t.same((await h.api('get_secret', { id: secret.id })).body.secret.names, ['ONLY']);
  t.same((await h.api('decrypt_secret', { id: secret.id })).body.fields, [{ name: 'ONLY', value: 'new-value-1' }]);
  // A refused update leaves the old values in place.
  const refused = await h.api('update_secret', { id: secret.id, fields: [{ name: 'toString', value: 'x' }] });
  t.equal(refused.body.code, 'secret');
  t.same((await h.api('decrypt_secret', { id: secret.id })).body.fields, [{ name: 'ONLY', value: 'new-value-1' }]);
  t.equal((await h.api('delete_secret', { id: secret.id })).body.code, 0);
  t.equal(await h.ctx.store.collections.get('secret_values', secret.id), undefined, 'delete removes the encrypted record');
  t.equal((await h.api('decrypt_secret', { id: secret.id })).body.code, 'secret');
});

t.test('secrets: bad names and duplicate ids answer code secret; a duplicate create leaves the first secret intact', async (t) => {
  const h = await harness(t);
  for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
    const res = await h.api('create_secret', { title: 'X', fields: [{ name, value: 'v' }] });
    t.equal(res.body.code, 'secret', name);
  }
  t.equal(
    (
      await h.api('create_secret', {
        title: 'X',
        fields: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      })
    ).body.code,
    'secret',
  );
  t.equal((await h.api('create_secret', { id: 'dup', title: 'X', fields: [{ name: 'A', value: 'first' }] })).body.code, 0);
  const again = await h.api('create_secret', { id: 'dup', title: 'Y', fields: [{ name: 'A', value: 'second' }] });
  t.equal(again.body.code, 'secret');
  t.same((await h.api('decrypt_secret', { id: 'dup' })).body.fields, [{ name: 'A', value: 'first' }]);
  t.equal((await h.api('get_secrets', {})).body.list.length, 1, 'no partial writes');
});

t.test('secrets: metadata is readable by anyone; values and changes need admin', async (t) => {
  const h = await harness(t);
  const secret = (await h.api('create_secret', { title: 'S', fields: [{ name: 'A', value: VALUE }] })).body.secret;
  const user = await userSession(h, 'reader', { privileges: { create_events: true, edit_events: true } });
  const key = await makeKey(h.ctx, { privileges: { edit_web_hooks: true } });
  for (const auth of [user, { key: key.key }]) {
    t.equal((await h.api('get_secret', { id: secret.id }, auth)).body.secret.title, 'S');
    const dec = await h.api('decrypt_secret', { id: secret.id }, auth);
    t.equal(dec.body.code, 'access');
    t.notMatch(JSON.stringify(dec.body), new RegExp(VALUE));
  }
  const adminKey = await makeKey(h.ctx, { privileges: { admin: true } });
  t.equal((await h.api('decrypt_secret', { id: secret.id }, { key: adminKey.key })).body.fields[0].value, VALUE);
});

t.test('secrets: the value is absent from gets, lists, activity, the stored metadata and the logs', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const ctx = await testContext(t, { adminPassword: ADMIN_PASSWORD });
  const app = createApp(ctx.config, { logger: { level: 'trace', stream } });
  await prepareApp(app, ctx, 'management');
  const implemented = new Set(managementRoutes(ctx).map((i) => i.descriptor.name + i.descriptor.namespace));
  await app.register(managementPlugin, { ctx, api: API.filter((d) => implemented.has(d.name + d.namespace)) });
  t.teardown(() => app.close());
  const login = await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  const headers = { 'x-session-id': login.json().session_id };
  const call = async (name: string, payload: Record<string, unknown>) =>
    (await app.inject({ method: 'POST', url: `/api/app/${name}/v1`, headers, payload })).body;

  const answers: string[] = [];
  answers.push(await call('create_secret', { id: 'logged', title: 'L', fields: [{ name: 'A', value: VALUE }] }));
  answers.push(
    await call('update_secret', {
      id: 'logged',
      fields: [
        { name: 'A', value: VALUE },
        { name: 'B', value: OTHER },
      ],
    }),
  );
  answers.push(await call('create_secret', { id: 'logged', title: 'dup', fields: [{ name: 'A', value: VALUE }] }));
  answers.push(await call('update_secret', { id: 'logged', fields: [{ name: 'A', value: 12 }] }));
  answers.push(await call('get_secret', { id: 'logged' }));
  answers.push(await call('get_secrets', {}));
  answers.push((await app.inject({ method: 'GET', url: '/api/app/get_secrets/v1', headers })).body);
  const decrypted = await call('decrypt_secret', { id: 'logged' });
  t.match(decrypted, VALUE, 'decrypt_secret is the one way to the value');
  t.match(decrypted, OTHER);
  for (const answer of answers) {
    t.notMatch(answer, VALUE);
    t.notMatch(answer, OTHER);
  }
  const { hits } = await ctx.store.indexes.search('activity', '', { limit: 1000 });
  const actions = hits.map((r) => r.action);
  t.ok(actions.includes('secret_create') && actions.includes('secret_update') && actions.includes('secret_access'));
  t.notMatch(JSON.stringify(hits), VALUE);
  t.notMatch(JSON.stringify(hits), OTHER);
  const metadata = await ctx.store.collections.get('secrets', 'logged');
  const sealed = await ctx.store.collections.get('secret_values', 'logged');
  t.notMatch(JSON.stringify(metadata), VALUE);
  t.notMatch(JSON.stringify(sealed), VALUE);
  t.notMatch(JSON.stringify(sealed), /"A"|"B"/, 'not even the names are in the sealed record');
  t.ok(lines.length > 5, 'the requests were logged');
  t.notMatch(lines.join(''), VALUE);
  t.notMatch(lines.join(''), OTHER);
});
