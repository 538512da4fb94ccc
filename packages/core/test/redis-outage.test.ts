/**
 * A Redis outage, with a real redis-server this test starts, kills and restarts: authenticated calls answer 503 with
 * `{code: 'unavailable', description}` (never 500 MaxRetriesPerRequestError), the log carries one structured line
 * when Redis goes and one when it is back (no stack trace per retry or per request), and sessions survive it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import t from 'tap';
import { Ok, defineApi } from '@shallot/schemas';
import { implement, registerApi } from '../src/api.js';
import { USERS } from '../src/identity.js';
import { prepareApp } from '../src/service.js';
import { testContext } from '../src/testing.js';
import { freePort } from '@shallot/core';

const whoami = defineApi({
  name: 'whoami',
  namespace: 'app',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'test',
  params: Type.Object({}),
  response: Ok({ username: Type.String() }),
});

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

t.test('during a Redis outage authenticated calls answer 503 and the log has one line per state change', async (t) => {
  const port = await freePort();
  let redis = await startRedis(port);
  t.teardown(() => stopRedis(redis));
  const ctx = await testContext(t, { redisUrl: `redis://127.0.0.1:${port}` });
  await ctx.store.collections.create(USERS, { id: 'alice', username: 'alice', active: true, privileges: {}, roles: [] });

  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({ logger: { level: 'info', stream } });
  await prepareApp(app, ctx, 'test');
  registerApi(app, {
    service: 'management',
    api: [whoami],
    implementations: [implement(whoami, async ({ caller }) => ({ code: 0 as const, username: caller?.username ?? '' }))],
  });
  t.teardown(() => app.close());
  const session = await app.sessions.issue('alice');
  const call = () => app.inject({ method: 'GET', url: '/api/app/whoami/v1', headers: { 'x-session-id': session.token } });
  const unversioned = () => app.inject({ method: 'GET', url: '/api/app/whoami', headers: { 'x-session-id': session.token } });
  t.equal((await call()).json().code, 0, 'works while Redis is up');

  await stopRedis(redis);
  // Callers cached while the change feed was live are served until its connection notices the loss (milliseconds).
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 5; i++) {
    const res = await call();
    t.equal(res.statusCode, 503, `call ${i} during the outage`);
    t.same(res.json(), {
      code: 'unavailable',
      description: 'Redis is unreachable: the service cannot check sessions or live state right now; retry shortly',
    });
  }
  t.equal((await unversioned()).statusCode, 503, 'unversioned URLs too');
  await new Promise((r) => setTimeout(r, 1500)); // several reconnect attempts

  const redisLines = () => lines.filter((l) => 'redis' in l);
  t.same(
    redisLines().map((l) => l.redis),
    ['down'],
    'one line when Redis goes',
  );
  t.equal(redisLines()[0]?.level, 50, 'at error level');
  const text = JSON.stringify(lines);
  t.notMatch(text, /MaxRetriesPerRequest/, 'no retry error in the log');
  t.notMatch(text, /"stack"/, 'no stack trace in the log');

  redis = await startRedis(port);
  for (let i = 0; i < 100 && !redisLines().some((l) => l.redis === 'up'); i++) await new Promise((r) => setTimeout(r, 50));
  t.same(
    redisLines().map((l) => l.redis),
    ['down', 'up'],
    'one line when it is back',
  );
  // The restarted Redis is empty: the session lives on in the store.
  const back = await call();
  t.equal(back.statusCode, 200);
  t.equal(back.json().username, 'alice', 'the session survives the outage');
});
