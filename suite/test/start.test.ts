import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL, deleteRedisPrefix } from '@shallot/core/testing';
import t from 'tap';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;
import { answers, findOrStartRedis } from '../src/redis-server.js';
import { freePort, isReady, start, waitFor } from './helpers/processes.js';

t.test('pnpm start: serves the suite, prints its URL and the first-run admin login, stops on SIGTERM', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-start-'));
  const prefix = `test-start-${process.pid}`;
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });
  const port = await freePort();
  const env = {
    SHALLOT_DATA_DIR: dataDir,
    SHALLOT_PORT: String(port),
    REDIS_URL: TEST_REDIS_URL,
    SHALLOT_REDIS_PREFIX: prefix,
    SHALLOT_LOG_LEVEL: 'warn',
  };
  const suite = start('suite/dist/main.js', env, t);
  await waitFor(() => /First run: log in as "admin" with password "([^"]+)"/.test(suite.output()), 'first-run login line', suite);
  const url = `http://127.0.0.1:${port}`;
  t.match(suite.output(), `Shallot is running at ${url}`);
  const password = /with password "([^"]+)"/.exec(suite.output())?.[1];

  t.equal((await fetch(`${url}/health`)).status, 200);
  const login = (await (
    await fetch(`${url}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    })
  ).json()) as Json;
  t.equal(login.code, 0, 'the printed password logs in');
  const echo = await fetch(`${url}/api/app/echo/v1`, { headers: { 'x-session-id': login.session_id } });
  t.equal(((await echo.json()) as Json).code, 0);
  const anonymous = await fetch(`${url}/api/app/get_tags/v1`);
  t.equal(anonymous.status, 403);
  t.equal(((await anonymous.json()) as Json).code, 'session');
  t.equal(await suite.stop(), 0, 'SIGTERM shuts down cleanly');

  const again = start('suite/dist/main.js', env, t);
  await waitFor(() => isReady(url), 'second start', again);
  t.notMatch(again.output(), /First run/, 'a second start keeps the data and prints no new password');
  const relogin = (await (
    await fetch(`${url}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    })
  ).json()) as Json;
  t.equal(relogin.code, 0, 'the admin survives a restart');
  t.equal(await again.stop(), 0);
});

t.test('pnpm start: an unreachable REDIS_URL fails with one clear sentence', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-start-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const suite = start(
    'suite/dist/main.js',
    { SHALLOT_DATA_DIR: dataDir, SHALLOT_PORT: String(await freePort()), REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
    t,
  );
  t.equal(await suite.exited, 1);
  t.match(suite.output().trim(), /^Redis at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ is not answering; start it or unset REDIS_URL\.$/);
});

t.test('without REDIS_URL and no local Redis, the suite starts its own redis-server under the data dir', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-redis-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const nobodyHome = `redis://127.0.0.1:${await freePort()}`;
  const redis = await findOrStartRedis('', dataDir, nobodyHome);
  t.teardown(() => redis.stop());
  t.ok(redis.child, 'a redis-server was started');
  t.not(redis.url, nobodyHome);
  t.equal(await answers(redis.url), true, 'and it answers');
  await redis.stop();
  t.equal(await answers(redis.url, 300), false, 'and it is stopped with the suite');
});
