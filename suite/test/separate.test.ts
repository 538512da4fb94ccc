import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAnswers } from '@shallot/core';
import { TEST_REDIS_URL, deleteRedisPrefix } from '@shallot/core/testing';
import t from 'tap';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;
import { freePort, isReady, type RunningProcess, start, waitFor } from './helpers/processes.js';

const SERVICES = ['ingest', 'search', 'management', 'job-runner', 'gateway'] as const;

t.test('separate deployment: five service processes behind the gateway answer like the suite', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-separate-'));
  const prefix = `test-separate-${process.pid}`;
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const))) as Record<
    (typeof SERVICES)[number],
    number
  >;
  const url = (s: (typeof SERVICES)[number]) => `http://127.0.0.1:${ports[s]}`;
  const shared = {
    SHALLOT_DATA_DIR: dataDir,
    REDIS_URL: TEST_REDIS_URL,
    SHALLOT_REDIS_PREFIX: prefix,
    SHALLOT_SECRET_KEY: 'separate-deployment-test-key',
    SHALLOT_ADMIN_PASSWORD: 'separate-admin-pw',
    SHALLOT_LOG_LEVEL: 'warn',
    SHALLOT_SERVER_ID: 'separate-runner',
    SHALLOT_INGEST_URL: url('ingest'),
    SHALLOT_SEARCH_URL: url('search'),
    SHALLOT_MANAGEMENT_URL: url('management'),
    SHALLOT_JOB_RUNNER_URL: url('job-runner'),
  };
  const processes = {} as Record<(typeof SERVICES)[number], RunningProcess>;
  for (const service of SERVICES) {
    processes[service] = start(`services/${service}/dist/main.js`, { ...shared, SHALLOT_PORT: String(ports[service]) }, t);
  }
  for (const service of SERVICES) await waitFor(() => isReady(url(service)), `${service} ready`, processes[service]);

  const gateway = url('gateway');
  t.equal((await fetch(`${gateway}/health`)).status, 200);
  const login = (await (
    await fetch(`${gateway}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'separate-admin-pw' }),
    })
  ).json()) as Json;
  t.equal(login.code, 0, 'login through the gateway');
  const echo = (await (
    await fetch(`${gateway}/api/app/echo/v1?via=gateway`, { headers: { 'x-session-id': login.session_id } })
  ).json()) as Json;
  t.match(echo, { code: 0, caller: { kind: 'session', username: 'admin', privileges: { admin: true } }, params: { via: 'gateway' } });
  const anonymous = await fetch(`${gateway}/api/app/get_tags/v1`);
  t.equal(anonymous.status, 403);
  t.equal(((await anonymous.json()) as Json).code, 'session');
  // A session issued by one process is honoured by another that shares the key.
  const direct = (await (
    await fetch(`${url('management')}/api/app/echo/v1`, { headers: { authorization: `Bearer ${login.session_id}` } })
  ).json()) as Json;
  t.equal(direct.code, 0);

  for (const service of SERVICES) t.equal(await processes[service].stop(), 0, `${service} exits cleanly on SIGTERM`);
});

t.test('a service run alone without REDIS_URL uses the local Redis on 6379, as the suite does', async (t) => {
  const local = 'redis://127.0.0.1:6379';
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-alone-'));
  const prefix = `test-alone-${process.pid}`;
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (await redisAnswers(local)) await deleteRedisPrefix(local, prefix);
  });
  const port = await freePort();
  const env = { SHALLOT_DATA_DIR: dataDir, SHALLOT_PORT: String(port), SHALLOT_REDIS_PREFIX: prefix, SHALLOT_LOG_LEVEL: 'info' };
  const service = start('services/management/dist/main.js', env, t);
  if (await redisAnswers(local)) {
    await waitFor(() => isReady(`http://127.0.0.1:${port}`), 'management ready', service);
    t.match(service.output(), /management listening on http:\/\/127\.0\.0\.1:\d+ \(redis: redis:\/\/127\.0\.0\.1:6379\)/);
    t.equal(await service.stop(), 0);
  } else {
    // CI may run its Redis elsewhere: then the service must say so in one sentence.
    t.equal(await service.exited, 1);
    t.match(service.output().trim(), /^No Redis answers at redis:\/\/127\.0\.0\.1:6379: start one there, or set REDIS_URL/);
  }
  t.notMatch(service.output(), /\n\s+at /, 'no stack trace');
});

t.test('a service run alone with an unreachable REDIS_URL, or a bad setting, fails with one sentence and no stack', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shallot-alone-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const dead = `redis://127.0.0.1:${await freePort()}`;
  for (const name of ['ingest', 'search', 'management', 'job-runner']) {
    const service = start(
      `services/${name}/dist/main.js`,
      { SHALLOT_DATA_DIR: dataDir, SHALLOT_PORT: String(await freePort()), REDIS_URL: dead },
      t,
    );
    t.equal(await service.exited, 1, `${name} exits with 1`);
    t.equal(service.output().trim(), `Redis at REDIS_URL=${dead} is not answering; start it or unset REDIS_URL.`, `${name} says why`);
  }
  const gateway = start(
    'services/gateway/dist/main.js',
    { SHALLOT_PORT: String(await freePort()), SHALLOT_WEBHOOK_ALLOW: '127.0.0.1:x' },
    t,
  );
  t.equal(await gateway.exited, 1);
  t.match(gateway.output().trim(), /^SHALLOT_WEBHOOK_ALLOW is invalid: "127\.0\.0\.1:x" has an invalid port/);
});
