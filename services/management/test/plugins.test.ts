import t from 'tap';
import { crudTable, harness, makeKey, userSession } from './crud-table.js';

const PARAMS = [
  { id: 'script', title: 'Script', type: 'code', value: '#!/bin/sh', locked: true, required: true },
  { id: 'annotate', title: 'Annotate', type: 'checkbox', value: false },
];

crudTable(t, {
  singular: 'plugin',
  plural: 'plugins',
  create: { title: 'Shell Script', type: 'event', command: '[shell-plugin]', kill: 'all', params: [PARAMS[1]] },
  update: { title: 'Shell Script 2', command: '/bin/bash' },
  required: ['title', 'type', 'command'],
  wrongType: {
    type: 'nonsense',
    command: '   ',
    params: { script: 1 },
    kill: 'some',
    timeout: 'soon',
  },
  privileges: { create: 'create_plugins', edit: 'edit_plugins', delete: 'delete_plugins' },
  defaults: { enabled: true, icon: '' },
  updateReturnsRecord: true,
  unknownUpdateCode: 'api',
});

const PRIVS = { create_plugins: true, edit_plugins: true, delete_plugins: true };

t.test('plugins: params are validated (ids, reserved ids, uniqueness, regexes, titles, toolsets)', async (t) => {
  const h = await harness(t);
  const base = { title: 'P', type: 'event', command: 'x' };
  const bad = [
    [{ id: '1abc', title: 'T', type: 'text' }],
    [{ id: 'constructor', title: 'T', type: 'text' }],
    [{ id: '_xy_override_command', title: 'T', type: 'text' }],
    [
      { id: 'a', title: 'T', type: 'text' },
      { id: 'a', title: 'U', type: 'text' },
    ],
    [{ id: 'a', title: 'T', type: 'text', regex: '(' }],
    [{ id: 'a', title: 'T', type: 'text', regex: '^\\d+$', value: 'abc' }],
    [{ id: 'a', title: '', type: 'text' }],
    [{ id: 'a', title: 'T', type: 'text', caption: '<script>' }],
    [{ id: 'a', title: 'T', type: 'system' }],
    [{ id: 'a', title: 'T', type: 'toolset', data: { tools: [{ id: 't', title: 'T', fields: [{ id: 'a', type: 'text', value: '' }] }] } }],
    [{ id: 'a', title: 'T', type: 'wibble' }],
  ];
  for (const params of bad) {
    const res = await h.api('create_plugin', { ...base, params });
    t.equal(res.body.code, 'api', `${JSON.stringify(params)} → ${res.body.description}`);
  }
  const good = await h.api('create_plugin', {
    ...base,
    params: [
      { id: 'count', title: 'Count', type: 'text', variant: 'number', regex: '^\\d+$', value: '5' },
      {
        id: 'tools',
        title: 'Tools',
        type: 'toolset',
        data: { tools: [{ id: 'hammer', title: 'Hammer', fields: [{ id: 'force', type: 'text', value: '1' }] }] },
      },
      { id: 'hook', title: 'Hook', type: 'system', list_id: 'web_hooks' },
    ],
  });
  t.equal(good.body.code, 0, good.body.description);
  t.equal(
    (await h.api('update_plugin', { id: good.body.plugin.id, params: [{ id: 'x', title: 'X', type: 'text', regex: '[' }] })).body.code,
    'api',
  );
});

t.test('plugins: non-admins cannot lock params, and locked params stay as the administrator saved them', async (t) => {
  const h = await harness(t);
  const plugin = (await h.api('create_plugin', { title: 'Shell', type: 'event', command: '[shell-plugin]', params: PARAMS })).body.plugin;
  const editor = await userSession(h, 'editor', { privileges: PRIVS });
  const key = await makeKey(h.ctx, { privileges: PRIVS });
  for (const auth of [editor, { key: key.key }]) {
    // Trying to change the locked default and to drop the locked param: both are put back.
    const res = await h.api(
      'update_plugin',
      {
        id: plugin.id,
        params: [
          { id: 'annotate', title: 'Annotate more', type: 'checkbox', value: true },
          { ...PARAMS[0], value: 'rm -rf /', locked: false },
        ],
      },
      auth,
    );
    t.equal(res.body.code, 0, res.body.description);
    const script = res.body.plugin.params.find((p: { id: string }) => p.id === 'script');
    t.same(script, PARAMS[0], 'the locked param is back as stored');
    t.equal(res.body.plugin.params.find((p: { id: string }) => p.id === 'annotate').title, 'Annotate more', 'unlocked params change');
    const dropped = await h.api('update_plugin', { id: plugin.id, params: [] }, auth);
    t.same(dropped.body.plugin.params, [PARAMS[0]], 'a locked param cannot be removed');
    const lock = await h.api('update_plugin', { id: plugin.id, params: [{ id: 'new_one', title: 'N', type: 'text', locked: true }] }, auth);
    t.equal(lock.body.code, 'api');
    t.match(lock.body.description, /Only administrators/);
    const create = await h.api(
      'create_plugin',
      { title: 'Mine', type: 'event', command: 'x', params: [{ id: 'l', title: 'L', type: 'text', locked: true }] },
      auth,
    );
    t.equal(create.body.code, 'api');
  }
  const admin = await h.api('update_plugin', { id: plugin.id, params: [{ ...PARAMS[0], value: 'echo admin' }] });
  t.equal(admin.body.plugin.params[0].value, 'echo admin', 'administrators may change locked params');
});

t.test('plugins: marketplace plugins never take uid/gid from a request', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_plugin', {
    title: 'M',
    type: 'event',
    command: 'x',
    uid: 'root',
    gid: 0,
    marketplace: { id: 'owner/repo', version: 'v1' },
  });
  t.equal(created.body.code, 0);
  t.notOk('uid' in created.body.plugin);
  t.notOk('gid' in created.body.plugin);
  const updated = await h.api('update_plugin', { id: created.body.plugin.id, uid: 'root' });
  t.notOk('uid' in updated.body.plugin);
  const plain = await h.api('create_plugin', { title: 'N', type: 'event', command: 'x', uid: 'nobody' });
  t.equal(plain.body.plugin.uid, 'nobody');
});
