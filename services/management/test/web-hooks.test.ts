import { webHookReceiver } from '@shallot/core/testing';
import t from 'tap';
import { crudTable, harness } from './crud-table.js';

crudTable(t, {
  singular: 'web_hook',
  plural: 'web_hooks',
  create: {
    title: 'Example Hook',
    method: 'POST',
    url: 'https://example.com/post',
    headers: [{ name: 'Content-Type', value: 'application/json' }],
    body: '{"text":"{{text}}"}',
  },
  update: { title: 'Example Hook 2', url: '{{config.base}}/hook', retries: 2 },
  required: ['title', 'method', 'url'],
  wrongType: {
    method: 'PO ST',
    url: 'ftp://example.com/',
    headers: { 'Content-Type': 'application/json' },
    timeout: 0,
    retries: 'twice',
  },
  privileges: { create: 'create_web_hooks', edit: 'edit_web_hooks', delete: 'delete_web_hooks' },
  defaults: {
    enabled: true,
    body: '{"text":"{{text}}"}',
    timeout: 30,
    retries: 0,
    follow: false,
    ssl_cert_bypass: false,
    max_per_day: 0,
    notes: '',
    icon: '',
  },
});

t.test('web hooks: a body macro that does not compile is refused with code web_hook; so are bad header names', async (t) => {
  const h = await harness(t);
  const base = { title: 'H', method: 'POST', url: 'https://example.com/' };
  const bad = await h.api('create_web_hook', { ...base, body: '{"x":"{{ text + }}"}' });
  t.equal(bad.body.code, 'web_hook');
  t.match(bad.body.description, /Failed to compile macro in body/);
  t.equal((await h.api('create_web_hook', { ...base, headers: [{ name: 'Bad Name', value: 'x' }] })).body.code, 'web_hook');
  t.equal((await h.api('create_web_hook', { ...base, url: 'HTTPS://EXAMPLE.COM/' })).body.code, 0, 'the scheme is case-insensitive');
  const made = (await h.api('create_web_hook', base)).body.web_hook;
  t.equal((await h.api('update_web_hook', { id: made.id, body: '{{ nosuch() }}' })).body.code, 'web_hook');
});

t.test('test_web_hook: a hook to 127.0.0.1 is refused by default and nothing is sent', async (t) => {
  const h = await harness(t);
  const receiver = await webHookReceiver(t);
  const { requests: received } = receiver;
  const base = receiver.url('');
  const res = await h.api('test_web_hook', { id: 'adhoc', title: 'Local', method: 'POST', url: `${base}/hook`, body: '{{text}}' });
  t.equal(res.body.code, 0);
  t.equal(res.body.result.code, 'webhook');
  t.match(res.body.result.description, /refused.*loopback/);
  t.equal(received.length, 0);
});

t.test('test_web_hook: delivered when allow-listed, merged over the saved hook, with granted secrets redacted', async (t) => {
  const h = await harness(t, { webhookAllow: '127.0.0.1' });
  const receiver = await webHookReceiver(t);
  const { requests: received } = receiver;
  const base = receiver.url('');
  const hook = (
    await h.api('create_web_hook', {
      id: 'local_hook',
      title: 'Local Hook',
      method: 'PUT',
      url: `${base}/saved`,
      headers: [{ name: 'Authorization', value: 'Bearer {{secrets.API_TOKEN}}' }],
      body: '{"text":"{{text}}","missing":"{{nothing.here}}"}',
    })
  ).body.web_hook;
  const secret = await h.api('create_secret', {
    title: 'Token',
    web_hooks: [hook.id],
    fields: [{ name: 'API_TOKEN', value: 'tok-3f9a-very-secret' }],
  });
  t.equal(secret.body.code, 0);
  const res = await h.api('test_web_hook', {
    id: hook.id,
    title: 'Local Hook',
    method: 'POST',
    url: `${base}/override?q={{encode(text)}}`,
  });
  t.equal(res.body.code, 0);
  t.equal(res.body.result.code, 0, res.body.result.description);
  t.equal(res.body.result.description, 'Success (HTTP 200 OK)');
  t.equal(received.length, 1);
  const [req] = received;
  t.equal(req?.method, 'POST', 'the request wins over the saved hook');
  t.equal(req?.path, '/override?q=Web%20Hook%20Test%3A%20Local%20Hook');
  t.equal(req?.headers.authorization, 'Bearer tok-3f9a-very-secret', 'the saved headers and the secret are used');
  t.same(JSON.parse(req?.body ?? '{}'), { text: 'Web Hook Test: Local Hook', missing: 'Web Hook Test: Local Hook' });
  t.notMatch(JSON.stringify(res.body), /tok-3f9a-very-secret/, 'the secret value is not in the answer');
  t.match(res.body.result.details, /Bearer \(REDACTED\)/);
  t.match(res.body.result.details, /HTTP 200/);
});

t.test('test_web_hook: needs edit_web_hooks and the required fields', async (t) => {
  const h = await harness(t);
  const res = await h.api('test_web_hook', { id: 'x', title: 'T', method: 'POST' });
  t.equal(res.body.code, 'api');
  const { makeKey } = await import('./crud-table.js');
  const key = await makeKey(h.ctx, { privileges: { create_web_hooks: true } });
  const denied = await h.api('test_web_hook', { id: 'x', title: 'T', method: 'POST', url: 'https://example.com' }, { key: key.key });
  t.equal(denied.body.code, 'access');
});
