import { testContext } from '@shallot/core/testing';
import t from 'tap';
import { buildSuite } from '../src/suite.js';

t.test('suite: every service in one process answers health, login and echo', async (t) => {
  const ctx = await testContext(t);
  const app = await buildSuite(ctx);
  t.teardown(() => app.close());
  t.same((await app.inject('/health')).json(), { code: 0, status: 'ok', service: 'suite' });
  t.equal((await app.inject('/ready')).statusCode, 200);
  const login = await app.inject({
    method: 'POST',
    url: '/api/user/login',
    payload: { username: 'admin', password: 'admin-test-password' },
  });
  t.equal(login.json().code, 0);
  const echo = await app.inject({ method: 'GET', url: '/api/app/echo/v1', headers: { 'x-session-id': login.json().session_id } });
  t.equal(echo.json().code, 0);
  t.equal(echo.json().caller.username, 'admin');
  const anonymous = await app.inject({ method: 'GET', url: '/api/app/get_tags/v1' });
  t.equal(anonymous.statusCode, 403);
  t.equal(anonymous.json().code, 'session');
  const docs = (await app.inject('/docs/json')).json();
  t.ok(docs.paths['/api/app/echo/v1'], 'the suite serves the OpenAPI document');
});
