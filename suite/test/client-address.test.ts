// The suite faces clients (issue 8, finding 6): X-Forwarded-For is believed only when SHALLOT_TRUST_PROXY says so,
// or a client could pick the address that login lockouts and rate limits count by.
import { testContext } from '@shallot/core/testing';
import t from 'tap';
import { buildSuite } from '../src/suite.js';

const CLIENT = '203.0.113.66';

async function failSixTimesWithFreshAddresses(t: Parameters<typeof testContext>[0], trustProxy: string) {
  const ctx = await testContext(t, { trustProxy });
  const suite = await buildSuite(ctx, { onSeeded: () => {} });
  t.teardown(() => suite.close());
  const login = (password: string, forwardedFor: string) =>
    suite.inject({
      method: 'POST',
      url: '/api/user/login',
      payload: { username: 'admin', password },
      remoteAddress: CLIENT,
      headers: { 'x-forwarded-for': forwardedFor },
    });
  for (let i = 0; i < 6; i++) await login(`guess-${i}`, `192.0.2.${i + 1}`);
  return (await login('admin-test-password', '192.0.2.99')).json();
}

t.test('client address: by default the suite ignores X-Forwarded-For, so rotating it does not escape a lockout', async (t) => {
  t.same(await failSixTimesWithFreshAddresses(t, ''), { code: 'login', description: 'Account is locked out' });
});

t.test('client address: SHALLOT_TRUST_PROXY=true believes the proxy’s X-Forwarded-For', async (t) => {
  const answer = await failSixTimesWithFreshAddresses(t, 'true');
  t.equal(answer.code, 0, 'each forwarded address counted on its own');
});
