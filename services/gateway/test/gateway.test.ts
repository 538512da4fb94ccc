import { createApp, prepareApp, standardResponsesPlugin } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { managementPlugin } from '@shallot/management';
import { API, routePaths } from '@shallot/schemas';
import { createServer } from 'node:http';
import t from 'tap';
import { gatewayPlugin } from '../src/plugin.js';

type T = Parameters<typeof testContext>[0];

/** A management service listening on a real port, and a gateway in front of it. */
async function deployment(t: T, gatewayOverrides = {}) {
  const ctx = await testContext(t);
  const management = createApp(ctx.config);
  await prepareApp(management, ctx, 'management');
  await management.register(managementPlugin, { ctx });
  await management.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => management.close());
  const address = management.server.address();
  const managementUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const config = { ...ctx.config, managementUrl, ingestUrl: 'http://127.0.0.1:9', ...gatewayOverrides };
  const gateway = createApp(config, { trustProxy: false });
  await gateway.register(standardResponsesPlugin);
  await gateway.register(gatewayPlugin, { config });
  t.teardown(() => gateway.close());
  return { gateway, management };
}

async function login(app: Awaited<ReturnType<typeof deployment>>['gateway']) {
  const res = await app.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'admin', password: 'admin-test-password' } });
  return res.json().session_id as string;
}

t.test('gateway: forwards login and echo to the owning service', async (t) => {
  const { gateway } = await deployment(t);
  const session = await login(gateway);
  t.match(session, /^[0-9a-f]{64}$/, 'login through the gateway answers a session');
  const echo = await gateway.inject({ method: 'GET', url: '/api/app/echo/v1?x=1', headers: { 'x-session-id': session } });
  t.equal(echo.statusCode, 200);
  t.match(echo.json(), { code: 0, caller: { kind: 'session', username: 'admin', privileges: { admin: true } }, params: { x: '1' } });
  const post = await gateway.inject({
    method: 'POST',
    url: '/api/app/echo/v1',
    headers: { 'x-session-id': session },
    payload: { nested: { a: 1 } },
  });
  t.same(post.json().params, { nested: { a: 1 } }, 'bodies arrive unchanged');
  const anonymous = await gateway.inject({ method: 'GET', url: '/api/app/get_tags/v1' });
  t.equal(anonymous.statusCode, 403);
  t.equal(anonymous.json().code, 'session');
  t.ok(echo.headers['x-content-type-options'], 'security headers are set at the edge');
});

t.test('gateway: the routing table is every descriptor, and /docs documents each', async (t) => {
  const { gateway } = await deployment(t);
  const doc = (await gateway.inject('/docs/json')).json();
  const operations = Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );
  const ids = operations.map((o) => o.op.operationId);
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  for (const descriptor of API) {
    const found = operations.filter(
      (o) => o.op.operationId === descriptor.name || o.op.operationId === `${descriptor.namespace}_${descriptor.name}`,
    );
    t.equal(found.length, 1, `${descriptor.name}: one operation`);
    const { path, method, op } = found[0] ?? { path: '', method: '', op: {} };
    const routes = routePaths(descriptor).map((r) => r.replace(/:(\w+)/g, '{$1}'));
    t.ok(routes.includes(path), `${descriptor.name} is documented at one of its URLs`);
    t.ok(descriptor.methods.map((m) => m.toLowerCase()).includes(method), `${descriptor.name}: one of its methods`);
    t.equal((op.tags as string[] | undefined)?.length, 1, `${descriptor.name}: one tag`);
    t.ok(Array.isArray(op.security), `${descriptor.name}: declares its security`);
    for (const route of routePaths(descriptor)) {
      for (const m of descriptor.methods) {
        if (`${m} ${route}` !== `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`) {
          t.match(op.description, `\`${m} ${route}\``, `${descriptor.name}: alias ${m} ${route} listed`);
        }
      }
    }
  }
  t.ok(doc.paths['/health']?.get && doc.paths['/ready']?.get, '/health and /ready are documented');
  t.equal((await gateway.inject('/docs')).statusCode < 400, true, 'the docs UI is served');
});

t.test('gateway: an unknown API is answered by the gateway itself', async (t) => {
  const { gateway } = await deployment(t);
  const res = await gateway.inject('/api/app/not_an_api/v1');
  t.equal(res.statusCode, 404);
  t.same(res.json(), { code: 'api', description: 'Unsupported API: not_an_api' });
});

t.test('gateway: a service that is down answers 503 unavailable', async (t) => {
  const { gateway, management } = await deployment(t);
  await management.close();
  const res = await gateway.inject({ method: 'POST', url: '/api/user/login', payload: { username: 'a', password: 'b' } });
  t.equal(res.statusCode, 503);
  t.same(res.json(), { code: 'unavailable', description: 'The management service is not answering' });
});

t.test('gateway: bodies over the limit are refused with 413 before reaching a service', async (t) => {
  const { gateway } = await deployment(t, { bodyLimit: 1024 });
  const res = await gateway.inject({
    method: 'POST',
    url: '/api/app/echo/v1',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ blob: 'x'.repeat(4096) }),
  });
  t.equal(res.statusCode, 413);
  t.equal(res.json().code, 'api');
});

t.test('gateway: the service learns the client address and the request id, and gets the body byte for byte', async (t) => {
  const seen: { headers: Record<string, unknown>; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ headers: request.headers, body });
      response.setHeader('content-type', 'application/json');
      response.end('{"took":1}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => receiver.close(resolve)));
  const address = receiver.address();
  const searchUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const { gateway } = await deployment(t, { searchUrl });
  const payload = '{"query": {"match_all": {}},   "size": 1}';
  const res = await gateway.inject({
    method: 'POST',
    url: '/v1/search',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6' },
    payload,
    remoteAddress: '10.1.2.3',
  });
  t.same(res.json(), { took: 1 });
  t.equal(seen.length, 1);
  t.equal(seen[0]?.body, payload, 'the body is forwarded as sent');
  t.equal(seen[0]?.headers['x-forwarded-for'], '6.6.6.6, 10.1.2.3', 'the client address is appended; the gateway believes no claim');
  t.match(String(seen[0]?.headers['x-request-id']), /^rq[a-z0-9]{14}$/, 'the gateway request id travels upstream');
});
