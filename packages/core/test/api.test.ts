import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import t from 'tap';
import { type ApiDescriptor, Ok, defineApi } from '@shallot/schemas';
import { implement, registerApi } from '../src/api.js';
import { Errors } from '../src/errors.js';
import { prepareApp } from '../src/service.js';
import { testContext } from '../src/testing.js';

const ping = defineApi({
  name: 'ping_thing',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'search',
  privilege: 'none',
  summary: 'test',
  params: Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1 })), name: Type.Optional(Type.String({ maxLength: 5 })) }),
  response: Ok({ count: Type.Integer() }),
});
const missing = defineApi({ ...ping, name: 'missing_thing' });
const broken = defineApi({ ...ping, name: 'broken_thing' });
const gone = defineApi({ ...ping, name: 'gone_thing' });

t.test('registerApi fails at startup naming a descriptor without a handler', async (t) => {
  const ctx = await testContext(t);
  const app = Fastify();
  t.teardown(() => app.close());
  await prepareApp(app, ctx, 'test');
  t.throws(
    () =>
      registerApi(app, {
        service: 'search',
        api: [ping, missing],
        implementations: [implement(ping, async () => ({ code: 0 as const, count: 1 }))],
      }),
    /Service search has no handler for API descriptor "missing_thing"/,
  );
});

t.test('registered endpoints: validation, versioned statuses, thrown errors', async (t) => {
  const ctx = await testContext(t);
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await prepareApp(app, ctx, 'test');
  const api: ApiDescriptor[] = [ping, broken, gone];
  registerApi(app, {
    service: 'search',
    api,
    implementations: [
      implement(ping, async ({ params }) => ({ code: 0 as const, count: params.count ?? 0 })),
      implement(broken, async () => {
        throw new Error('database password is hunter2');
      }),
      implement(gone, async () => {
        throw new Errors.notfound('Thing not found: x');
      }),
    ],
  });

  const get = await app.inject({ method: 'GET', url: '/api/app/ping_thing/v1?count=3' });
  t.same(get.json(), { code: 0, count: 3 }, 'query strings are coerced to the schema types');
  const post = await app.inject({ method: 'POST', url: '/api/app/ping_thing/v1', payload: { count: 4 } });
  t.same(post.json(), { code: 0, count: 4 });

  const invalid = await app.inject({ method: 'POST', url: '/api/app/ping_thing/v1', payload: { count: 'many' } });
  t.equal(invalid.statusCode, 400);
  t.equal(invalid.json().code, 'api');
  t.match(invalid.json().description, /count/);
  const invalidOld = await app.inject({ method: 'POST', url: '/api/app/ping_thing', payload: { name: 'far too long' } });
  t.equal(invalidOld.statusCode, 200, 'unversioned URLs answer errors with HTTP 200');
  t.equal(invalidOld.json().code, 'api');

  const notJson = await app.inject({
    method: 'POST',
    url: '/api/app/ping_thing/v1',
    headers: { 'content-type': 'application/json' },
    payload: '{"count":',
  });
  t.equal(notJson.statusCode, 400);
  t.equal(notJson.json().code, 'api');

  const notFound = await app.inject({ method: 'GET', url: '/api/app/gone_thing/v1' });
  t.equal(notFound.statusCode, 404);
  t.same(notFound.json(), { code: 'notfound', description: 'Thing not found: x' });

  const internal = await app.inject({ method: 'GET', url: '/api/app/broken_thing/v1' });
  t.equal(internal.statusCode, 500);
  t.equal(internal.json().code, 'internal');
  t.notMatch(internal.body, /hunter2/, 'internal details stay in the logs');

  const unknown = await app.inject({ method: 'GET', url: '/api/app/no_such_api/v1' });
  t.equal(unknown.statusCode, 404);
  t.same(unknown.json(), { code: 'api', description: 'Unsupported API: no_such_api' });
  const bare = await app.inject({ method: 'POST', url: '/api/app/no_such_api' });
  t.equal(bare.statusCode, 200, 'unversioned: HTTP 200, like every error there');
  t.same(bare.json(), { code: 'api', description: 'Unsupported API: no_such_api' });
});

t.test('health and readiness', async (t) => {
  const ctx = await testContext(t);
  const app = Fastify();
  t.teardown(() => app.close());
  await prepareApp(app, ctx, 'test');
  t.same((await app.inject('/health')).json(), { code: 0, status: 'ok', service: 'test' });
  const ready = await app.inject('/ready');
  t.equal(ready.statusCode, 200);
  t.same(ready.json().checks, { redis: 'ok', store: 'ok' });
  await ctx.redis.client.quit();
  const down = await app.inject('/ready');
  t.equal(down.statusCode, 503, 'a dead Redis makes the service not ready');
  t.equal(down.json().code, 'unavailable');
  t.match(down.json().description, /redis/);
});
