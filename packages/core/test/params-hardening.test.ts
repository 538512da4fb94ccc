// Request parameters cost work bounded by their schema (issue 8, findings 2, 5 and 10).
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import t from 'tap';
import { Ok, defineApi } from '@shallot/schemas';
import { implement, registerApi } from '../src/api.js';
import { compileParams, stripTags } from '../src/params.js';
import { MAX_DESCRIPTION, quote } from '../src/responses.js';
import { prepareApp } from '../src/service.js';
import { testContext } from '../src/testing.js';

t.test('a union-typed field holding a huge object is refused without walking the object', async (t) => {
  const schema = Type.Object({
    title: Type.String({ maxLength: 10 }),
    enabled: Type.Boolean({ default: true }),
    color: Type.Optional(Type.Union(['red', 'green', 'blue'].map((c) => Type.Literal(c)))),
  });
  const validate = compileParams(schema);
  let reads = 0;
  const target: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) target[`k${i}`] = i;
  // Counts every property read and key listing: TypeBox's Value.Default cloned the object once per union variant.
  const color = new Proxy(target, {
    get: (o, k) => {
      reads++;
      return Reflect.get(o, k);
    },
    ownKeys: (o) => {
      reads++;
      return Reflect.ownKeys(o);
    },
  });
  t.throws(() => validate({ title: 'x', color }), /Invalid parameter color/);
  t.ok(reads < 10, `the 1000-key object was not walked (${reads} reads)`);
  const filled = validate({ title: 'x' });
  t.same(filled, { title: 'x', enabled: true }, 'declared defaults are still filled');
  const nested = compileParams(Type.Object({ opts: Type.Object({ n: Type.Integer({ default: 3 }) }, { default: {} }) }));
  t.same(nested({}), { opts: { n: 3 } }, 'defaults nest: an object default gets its own property defaults');
});

t.test('tags are stripped in one pass with the same result as before', async (t) => {
  t.equal(stripTags('a <b>bold</b> move'), 'a bold move');
  t.equal(stripTags('1 < 2 and 3 > 2'), '1  2');
  t.equal(stripTags('x < y'), 'x < y', 'an unclosed < is kept');
  t.equal(stripTags('<<a>>'), '>');
  t.equal(stripTags('<'.repeat(1_000_000)).length, 1_000_000, 'a megabyte of unclosed tags is one scan');
});

t.test('an anonymous call with a megabyte of unclosed tags answers at once', { timeout: 60_000 }, async (t) => {
  const ctx = await testContext(t);
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await prepareApp(app, ctx, 'test');
  const echo = defineApi({
    name: 'echo_notes',
    namespace: 'app',
    methods: ['POST'],
    service: 'search',
    privilege: 'none',
    summary: 'test',
    params: Type.Object({ notes: Type.Optional(Type.String({ maxLength: 100 })), message: Type.Optional(Type.String()) }),
    response: Ok({ length: Type.Integer() }),
  });
  registerApi(app, {
    service: 'search',
    api: [echo],
    implementations: [implement(echo, async ({ params }) => ({ code: 0 as const, length: (params.message ?? '').length }))],
  });
  // The regex strip took ~18 s for 200 KB here (quadratic); the schema's maxLength now refuses before any scan.
  const notes = await app.inject({ method: 'POST', url: '/api/app/echo_notes/v1', payload: { notes: '<'.repeat(1_000_000) } });
  t.equal(notes.statusCode, 400);
  t.match(notes.json().description, /notes/);
  const message = await app.inject({ method: 'POST', url: '/api/app/echo_notes/v1', payload: { message: '<a'.repeat(500_000) } });
  t.equal(message.json().length, 1_000_000, 'an unbounded field is stripped in linear time (nothing closes, nothing goes)');
});

t.test('error messages quote at most 200 characters of a value and stay short', async (t) => {
  t.equal(quote('x'.repeat(50)), 'x'.repeat(50));
  t.ok(quote('x'.repeat(1_000_000)).length < 260);
  const ctx = await testContext(t);
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await prepareApp(app, ctx, 'test');
  const unknown = await app.inject({ method: 'POST', url: `/api/app/${'n'.repeat(100_000)}/v1`, payload: {} });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'api', 'the unknown-API code is a string, as the error schema says');
  t.ok(unknown.json().description.length <= MAX_DESCRIPTION + 10, 'a 100k-character API name is not echoed whole');
  const named = await app.inject({ method: 'GET', url: '/api/app/no_such_call' });
  t.same(named.json(), { code: 'api', description: 'Unsupported API: no_such_call' });
});
