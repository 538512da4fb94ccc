// The rate limit of the user namespace (issue 8, finding 6): on by default for `/api/user/*`, per client address,
// counted apart from the rest of the API; SHALLOT_USER_RATE_LIMIT sets it (0 = off).
import { createApp, loadConfig, prepareApp, standardResponsesPlugin } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { managementPlugin } from '@shallot/management';
import t from 'tap';
import { gatewayPlugin } from '../src/plugin.js';

type T = Parameters<typeof testContext>[0];

/** A real management service on a port, with the real gateway in front of it. */
async function deployment(t: T, gatewayOverrides = {}) {
  const ctx = await testContext(t);
  const management = createApp(ctx.config);
  await prepareApp(management, ctx, 'management');
  await management.register(managementPlugin, { ctx });
  await management.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => management.close());
  const address = management.server.address();
  const managementUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const config = { ...ctx.config, managementUrl, ...gatewayOverrides };
  const gateway = createApp(config, { trustProxy: false });
  await gateway.register(standardResponsesPlugin);
  await gateway.register(gatewayPlugin, { config });
  t.teardown(() => gateway.close());
  return gateway;
}

t.test('user rate limit: on by default for /api/user/*, per client address, apart from the rest', async (t) => {
  const defaults = loadConfig({});
  t.equal(defaults.userRateLimitPerMinute, 60, 'default: 60 requests per minute per address');
  t.equal(defaults.rateLimitPerMinute, 0, 'the global limit stays off by default');
  t.equal(loadConfig({ SHALLOT_USER_RATE_LIMIT: '7' }).userRateLimitPerMinute, 7);

  const gateway = await deployment(t);
  const logout = (remoteAddress: string) => gateway.inject({ method: 'POST', url: '/api/user/logout', payload: {}, remoteAddress });
  for (let i = 0; i < 60; i++) {
    const res = await logout('203.0.113.5');
    if (res.json().code !== 0) t.fail(`request ${i + 1} answered ${res.body}`);
  }
  const limited = await logout('203.0.113.5');
  t.match(limited.json(), { code: 'rate', description: /^Rate limit exceeded: 60 requests per minute; retry in \d+ seconds?$/ });
  t.equal(limited.statusCode, 200, 'unversioned URLs answer errors with 200 (spec), the code says rate');
  t.ok(Number(limited.headers['retry-after']) > 0, 'retry-after tells when to come back');
  t.equal((await logout('198.51.100.9')).statusCode, 200, 'another address is not limited');
  const spoofed = await gateway.inject({
    method: 'POST',
    url: '/api/user/logout',
    payload: {},
    remoteAddress: '203.0.113.5',
    headers: { 'x-forwarded-for': '192.0.2.1' },
  });
  t.equal(spoofed.json().code, 'rate', 'a claimed X-Forwarded-For does not reset the count');
  const other = await gateway.inject({ method: 'GET', url: '/api/app/get_api_keys/v1', remoteAddress: '203.0.113.5' });
  t.not(other.json().code, 'rate', 'the rest of the API is not limited by it');
});

t.test('user rate limit: SHALLOT_USER_RATE_LIMIT=0 turns it off', async (t) => {
  const gateway = await deployment(t, { userRateLimitPerMinute: 0 });
  let limited = 0;
  for (let i = 0; i < 70; i++) {
    const res = await gateway.inject({ method: 'POST', url: '/api/user/logout', payload: {}, remoteAddress: '203.0.113.5' });
    if (res.json().code === 'rate') limited++;
  }
  t.equal(limited, 0);
});
