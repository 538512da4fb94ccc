/**
 * Shapes and codes as xyOps v1.0.88 answers them (issue 9): anonymous echo/ping, the section's code for a missing
 * record, `api` for an unknown API, API key `key`/`mask`, category limits and actions, test_web_hook merging over the
 * saved hook, and a web hook to the suite's own echo once its address is allow-listed with a port.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { type Answer, authHeaders, harness } from './helpers.js';
import { freePort } from '@shallot/core';

const SECTIONS = ['tag', 'category', 'role', 'plugin', 'group', 'bucket', 'channel', 'monitor', 'alert', 'secret', 'web_hook', 'api_key'];
const WORDS: Record<string, string> = { web_hook: 'web hook', api_key: 'API Key' };

t.test('echo and ping answer anonymously, in the xyOps shape', async (t) => {
  const h = await harness(t);
  const cases: Array<{ name: string; request: Parameters<typeof h.call>[0]; status: number; expect: Answer }> = [
    { name: 'ping, GET, no credentials', request: { method: 'GET', url: '/api/app/ping/v1' }, status: 200, expect: { code: 0 } },
    { name: 'ping, unversioned POST', request: { method: 'POST', url: '/api/app/ping', payload: {} }, status: 200, expect: { code: 0 } },
    {
      name: 'echo, GET with a query',
      request: { method: 'GET', url: '/api/app/echo/v1?a=1&b=two', headers: { 'x-custom': 'yes' } },
      status: 200,
      expect: {
        code: 0,
        method: 'GET',
        url: '/api/app/echo/v1?a=1&b=two',
        ips: ['127.0.0.1'],
        query: { a: '1', b: 'two' },
        headers: { 'x-custom': 'yes' },
        cookies: {},
        params: { a: '1', b: 'two' },
        files: {},
      },
    },
    {
      name: 'echo, POST JSON',
      request: { method: 'POST', url: '/api/app/echo/v1', payload: { hello: 'world', n: 1 } },
      status: 200,
      expect: { code: 0, method: 'POST', query: {}, params: { hello: 'world', n: 1 }, headers: { 'content-type': 'application/json' } },
    },
    {
      name: 'echo with a bad API key: presented credentials must be valid',
      request: { method: 'GET', url: '/api/app/echo/v1', headers: { 'x-api-key': 'not-a-key' } },
      status: 403,
      expect: { code: 'session' },
    },
    {
      name: 'echo with a bad key, unversioned: HTTP 200',
      request: { method: 'GET', url: '/api/app/echo', headers: { 'x-api-key': 'not-a-key' } },
      status: 200,
      expect: { code: 'session' },
    },
  ];
  for (const c of cases) {
    const res = await h.call(c.request);
    t.equal(res.status, c.status, `${c.name}: status`);
    t.match(res.body, c.expect, c.name);
  }
  const anonymous = await h.call({ method: 'GET', url: '/api/app/echo/v1' });
  t.notOk('caller' in anonymous.body, 'no caller without credentials');
  for (const key of ['method', 'url', 'ips', 'query', 'headers', 'cookies', 'params', 'files'])
    t.ok(key in anonymous.body, `echo has ${key}`);

  const session = (h.admin as { session: string }).session;
  const withSession = await h.call({
    method: 'GET',
    url: `/api/app/echo/v1?session_id=${session}&x=1`,
    headers: { cookie: 'theme=dark', 'x-session-id': session },
  });
  t.equal(withSession.body.code, 0);
  t.match(withSession.body.caller, { kind: 'session', username: 'admin' }, 'valid credentials: the caller is named');
  const text = JSON.stringify(withSession.body);
  t.notOk(text.includes(session), 'the session id is never echoed (header, query or url)');
  t.same(withSession.body.cookies, { theme: '********' }, 'cookie values are masked, names kept');
  t.equal(withSession.body.headers['x-session-id'], '********');
  t.same(withSession.body.query, { x: '1' });

  const boundary = 'shallotboundary';
  const multipart = [
    `--${boundary}`,
    'Content-Disposition: form-data; name="note"',
    '',
    'hi',
    `--${boundary}`,
    'Content-Disposition: form-data; name="file1"; filename="data.csv"',
    'Content-Type: text/csv',
    '',
    'a,b\n1,2\n',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  const upload = await h.call({
    method: 'POST',
    url: '/api/app/echo/v1',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: multipart,
  });
  t.equal(upload.body.code, 0, JSON.stringify(upload.body));
  t.same(upload.body.files, { file1: { name: 'data.csv', size: 8, type: 'text/csv' } }, 'uploaded files are described');
  t.match(upload.body.params, { note: 'hi' }, 'form fields are parameters');
  const broken = await h.call({
    method: 'POST',
    url: '/api/app/echo/v1',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="file1"; filename="x"\r\n\r\nabc`,
  });
  t.equal(broken.status, 400, 'a truncated multipart body is a clear error');
  t.equal(broken.body.code, 'api');
});

t.test('unknown APIs answer code api "Unsupported API: NAME"', async (t) => {
  const h = await harness(t);
  const cases = [
    { url: '/api/app/no_such_call/v1', status: 404 },
    { url: '/api/app/no_such_call', status: 200 },
  ];
  for (const c of cases) {
    for (const method of ['GET', 'POST'] as const) {
      const res = await h.call({ method, url: c.url, headers: authHeaders(h.admin) });
      t.equal(res.status, c.status, `${method} ${c.url}: status`);
      t.same(res.body, { code: 'api', description: 'Unsupported API: no_such_call' }, `${method} ${c.url}`);
    }
  }
});

t.test("a missing record answers the section's code and xyOps' message", async (t) => {
  const h = await harness(t);
  for (const singular of SECTIONS) {
    const description = `Failed to locate ${WORDS[singular] ?? singular}: nope`;
    for (const call of [`get_${singular}`, `delete_${singular}`]) {
      const versioned = await h.api(call, { id: 'nope' });
      t.equal(versioned.status, 404, `${call}: HTTP 404 on /v1`);
      t.same(versioned.body, { code: singular, description }, call);
      const bare = await h.call({ method: 'POST', url: `/api/app/${call}`, headers: authHeaders(h.admin), payload: { id: 'nope' } });
      t.equal(bare.status, 200, `${call}: HTTP 200 unversioned`);
      t.equal(bare.body.code, singular);
    }
    if (singular !== 'plugin') {
      // update_plugin keeps api-sections §1's `api` "Plugin not found".
      const update = await h.api(`update_${singular}`, { id: 'nope', title: 'x' });
      t.equal(update.body.code, singular, `update_${singular}`);
    }
  }
});

t.test('get_api_key(s): key is the SHA-256 hex of the plain key, mask its first 4, 8 *, last 4', async (t) => {
  const h = await harness(t);
  const created = await h.api('create_api_key', { title: 'Script' });
  t.equal(created.body.code, 0);
  const plain = created.body.plain_key as string;
  const sha = createHash('sha256').update(plain).digest('hex');
  const mask = `${plain.slice(0, 4)}********${plain.slice(-4)}`;
  const one = (await h.api('get_api_key', { id: created.body.api_key.id })).body.api_key;
  const list = (await h.api('get_api_keys', {})).body.rows as Answer[];
  for (const [name, record] of [
    ['get_api_key', one],
    ['get_api_keys', list.find((r) => r.id === one.id)],
    ['create_api_key', created.body.api_key],
  ] as const) {
    t.match(record?.key, /^[0-9a-f]{64}$/, `${name}: key is 64 hex`);
    t.equal(record?.key, sha, `${name}: key is the SHA-256 of the plain key`);
    t.equal(record?.mask, mask, `${name}: mask`);
    t.notOk('key_hash' in (record ?? {}));
  }
  t.notOk(JSON.stringify(one).includes(plain), 'the plain key is never answered again');
  t.equal((await h.call({ method: 'GET', url: '/api/app/get_tags/v1', headers: { 'x-api-key': plain } })).body.code, 0, 'the key works');
  t.equal(
    (await h.call({ method: 'GET', url: '/api/app/get_tags/v1', headers: { 'x-api-key': sha } })).body.code,
    'session',
    'its hash is not a key',
  );
});

t.test('categories: limits and actions are validated like events', async (t) => {
  const h = await harness(t);
  const ok = { enabled: true, condition: 'error', type: 'email', users: ['admin'] };
  const cases: Array<{ name: string; fields: Answer; code: string | 0; description?: RegExp }> = [
    { name: 'valid limits and actions', fields: { limits: [{ type: 'time', enabled: true, duration: 60 }], actions: [ok] }, code: 0 },
    {
      name: 'time limit without a duration',
      fields: { limits: [{ type: 'time', enabled: true }] },
      code: 'api',
      description: /Limit #1: .*duration/,
    },
    {
      name: 'time limit with a string duration',
      fields: { limits: [{ type: 'time', enabled: true, duration: '60' }] },
      code: 'api',
      description: /Limit #1/,
    },
    { name: 'limit without enabled', fields: { limits: [{ type: 'log', amount: 5 }] }, code: 'api', description: /Limit #1: enabled/ },
    { name: 'unknown limit type', fields: { limits: [{ type: 'bogus', enabled: true }] }, code: 'api', description: /unknown type/ },
    {
      name: 'mem limit amount not a number',
      fields: { limits: [{ type: 'mem', enabled: true, amount: 'lots' }] },
      code: 'api',
      description: /amount/,
    },
    {
      name: 'a queue without a job limit',
      fields: { limits: [{ type: 'queue', enabled: true, amount: 5 }] },
      code: 'api',
      description: /queue needs an enabled job/,
    },
    {
      name: 'file accept with illegal characters',
      fields: { limits: [{ type: 'file', enabled: true, accept: '<script>' }] },
      code: 'api',
      description: /accept/,
    },
    {
      name: 'email action without users or email',
      fields: { actions: [{ enabled: true, condition: 'error', type: 'email', users: [] }] },
      code: 'api',
      description: /Action #1: .*recipient/,
    },
    {
      name: 'email action with email only',
      fields: { actions: [{ enabled: true, condition: 'error', type: 'email', users: [], email: 'ops@example.com' }] },
      code: 0,
    },
    {
      name: 'action with an unknown condition',
      fields: { actions: [{ ...ok, condition: 'whenever' }] },
      code: 'api',
      description: /condition/,
    },
    {
      name: 'web_hook action without an id',
      fields: { actions: [{ enabled: true, condition: 'start', type: 'web_hook' }] },
      code: 'api',
      description: /web_hook/,
    },
  ];
  let n = 0;
  for (const c of cases) {
    n++;
    const id = `cat${n}`;
    const created = await h.api('create_category', { id, title: c.name, ...c.fields });
    t.equal(created.body.code, c.code, `create: ${c.name}: ${JSON.stringify(created.body)}`);
    if (c.description) t.match(created.body.description, c.description, `create: ${c.name}: message`);
    if (c.code !== 0) t.equal((await h.api('get_category', { id })).body.code, 'category', `create: ${c.name}: nothing stored`);

    // The same on update, over a valid stored category.
    const base = `base${n}`;
    t.equal((await h.api('create_category', { id: base, title: 'Base' })).body.code, 0);
    const updated = await h.api('update_category', { id: base, ...c.fields });
    t.equal(updated.body.code, c.code, `update: ${c.name}`);
    if (c.code !== 0) {
      const stored = (await h.api('get_category', { id: base })).body.category;
      t.same([stored.limits, stored.actions, stored.revision], [[], [], 1], `update: ${c.name}: nothing changed`);
    }
  }
});

t.test(
  'test_web_hook merges the given fields over the saved hook; a hook to the suite itself works once allow-listed with its port',
  async (t) => {
    const port = await freePort();
    const h = await harness(t, { webhookAllow: `127.0.0.1:${port}` });
    await h.app.listen({ host: '127.0.0.1', port });
    const base = `http://127.0.0.1:${port}`;

    const created = await h.api('create_web_hook', {
      id: 'self_echo',
      title: 'Self echo',
      method: 'POST',
      url: `${base}/api/app/echo/v1`,
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: '{"text": "{{text}}"}',
    });
    t.equal(created.body.code, 0, JSON.stringify(created.body));

    const byId = await h.api('test_web_hook', { id: 'self_echo' });
    t.equal(byId.body.code, 0, JSON.stringify(byId.body));
    t.equal(byId.body.result.code, 0, `the suite's echo answered the hook: ${byId.body.result.description}`);
    t.match(byId.body.result.details, /Web Hook Test: Self echo/, 'the echoed body carries the test text');

    const merged = await h.api('test_web_hook', { id: 'self_echo', title: 'Overridden title' });
    t.equal(merged.body.result.code, 0);
    t.match(merged.body.result.details, /Web Hook Test: Overridden title/, 'a given field wins over the saved one');

    const otherPort = await h.api('test_web_hook', { id: 'self_echo', url: `http://127.0.0.1:${port + 1}/api/app/echo/v1` });
    t.equal(otherPort.body.code, 0);
    t.not(otherPort.body.result.code, 0, 'another port of the allow-listed address is still refused');
    t.match(otherPort.body.result.description, /loopback/);

    const unsaved = await h.api('test_web_hook', { id: 'not_saved' });
    t.equal(unsaved.body.code, 'api');
    t.match(unsaved.body.description, /Missing parameter: title/);
    const adHoc = await h.api('test_web_hook', { id: 'not_saved', title: 'Ad hoc', method: 'GET', url: `${base}/api/app/ping/v1` });
    t.equal(adHoc.body.result.code, 0, 'an unsaved hook with every field is sent');
  },
);
