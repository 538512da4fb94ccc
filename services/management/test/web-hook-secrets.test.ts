// Web hook secrets (issue 8, finding 7): readers without edit_web_hooks see a web hook's URL without its path and
// query, its header values and body masked — in get_web_hook, get_web_hooks, the login bundle and the activity log.
import { ACTIVITY_INDEX, ACTIVITY_SCOPE } from '@shallot/core';
import t from 'tap';
import { type Auth, harness, makeKey, makeUser } from './helpers.js';

const HOOK = {
  id: 'slackhook',
  title: 'Slack',
  method: 'POST',
  url: 'https://user:pw@hooks.example.com:8443/services/T0/B0/sEcReTtOkEn?sig=QuErYsEcReT#frag',
  headers: [
    { name: 'Authorization', value: 'Bearer hEaDeRsEcReT' },
    { name: 'X-Plain', value: 'also-hidden' },
  ],
  body: '{"token":"bOdYsEcReT","text":"{{text}}"}',
};
const SECRETS = ['sEcReTtOkEn', 'QuErYsEcReT', 'hEaDeRsEcReT', 'also-hidden', 'bOdYsEcReT', 'user:pw', 'frag'];

t.test('web hook secrets: readers without edit_web_hooks see the origin only and masked headers and body', async (t) => {
  const h = await harness(t);
  t.equal((await h.api('create_web_hook', HOOK)).body.code, 0);
  await makeUser(h.ctx, 'reader', { privileges: { create_events: true } });
  await makeUser(h.ctx, 'editor', { privileges: { edit_web_hooks: true } });
  const reader: Auth = { session: (await h.app.sessions.issue('reader')).token };
  const editor: Auth = { session: (await h.app.sessions.issue('editor')).token };
  const restrictedKey: Auth = { key: (await makeKey(h.ctx, { privileges: { create_web_hooks: true } })).key };
  const editingKey: Auth = { key: (await makeKey(h.ctx, { privileges: { edit_web_hooks: true } })).key };

  for (const [name, who] of [
    ['restricted user', reader],
    ['API key without edit_web_hooks', restrictedKey],
  ] as const) {
    const one = await h.api('get_web_hook', { id: HOOK.id }, who);
    t.equal(one.body.code, 0, name);
    t.equal(one.body.web_hook.url, 'https://hooks.example.com:8443/[redacted]', `${name}: origin only`);
    t.same(
      one.body.web_hook.headers,
      [
        { name: 'Authorization', value: '[redacted]' },
        { name: 'X-Plain', value: '[redacted]' },
      ],
      `${name}: header names kept, values masked`,
    );
    t.equal(one.body.web_hook.body, '[redacted]');
    t.equal(one.body.web_hook.title, 'Slack', 'the rest is shown');
    const all = await h.api('get_web_hooks', {}, who);
    const listed = JSON.stringify(all.body.rows);
    t.match(listed, /slackhook/, `${name}: the list has the hook`);
    for (const secret of SECRETS) {
      t.notMatch(JSON.stringify(one.body), secret, `${name}: get hides ${secret}`);
      t.notMatch(listed, secret, `${name}: list hides ${secret}`);
    }
  }
  for (const [name, who] of [
    ['admin', h.admin],
    ['user with edit_web_hooks', editor],
    ['API key with edit_web_hooks', editingKey],
  ] as const) {
    const one = await h.api('get_web_hook', { id: HOOK.id }, who);
    t.equal(one.body.web_hook.url, HOOK.url, `${name} sees the URL`);
    t.same(one.body.web_hook.headers, HOOK.headers, `${name} sees the headers`);
    t.equal(one.body.web_hook.body, HOOK.body);
  }

  // The login bundle carries the web hooks too.
  const login = await h.call({ method: 'POST', url: '/api/user/login', payload: { username: 'reader', password: 'user-password-1' } });
  t.equal(login.body.code, 0);
  t.equal(login.body.web_hooks.find((w: { id: string }) => w.id === HOOK.id)?.url, 'https://hooks.example.com:8443/[redacted]');
  for (const secret of SECRETS) t.notMatch(JSON.stringify(login.body.web_hooks), secret, `login bundle hides ${secret}`);
  const adminLogin = await h.call({
    method: 'POST',
    url: '/api/user/login',
    payload: { username: 'admin', password: 'admin-test-password' },
  });
  t.equal(adminLogin.body.web_hooks.find((w: { id: string }) => w.id === HOOK.id)?.url, HOOK.url, 'administrators see it whole');
});

t.test('web hook secrets: a template URL is hidden whole; the activity log never carries the secrets', async (t) => {
  const h = await harness(t);
  const hook = { ...HOOK, id: 'templated', url: '{{config.base}}/hook?key=tEmPlAtEsEcReT' };
  t.equal((await h.api('create_web_hook', hook)).body.code, 0);
  await makeUser(h.ctx, 'reader', {});
  const reader: Auth = { session: (await h.app.sessions.issue('reader')).token };
  const one = await h.api('get_web_hook', { id: 'templated' }, reader);
  t.equal(one.body.web_hook.url, '[redacted]');
  t.equal((await h.api('update_web_hook', { id: 'templated', title: 'Renamed' })).body.code, 0);
  const { hits } = await h.ctx.store.indexes.search(ACTIVITY_INDEX.name, ACTIVITY_SCOPE, {
    query: { term: { field: 'keywords', value: 'templated' } },
  });
  t.equal(hits.length, 2, 'create and update are logged');
  const text = JSON.stringify(hits);
  t.match(text, /templated/, 'the creation is logged');
  for (const secret of [...SECRETS, 'tEmPlAtEsEcReT']) t.notMatch(text, secret, `activity hides ${secret}`);
});
