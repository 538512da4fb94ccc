// GET and OPTIONS /v1/events/process (leek-agent-protocol §3): liveness, readiness and the guarded auto-create.
import { LEEK_APPLICATIONS, leekScope } from '@shallot/schemas';
import t from 'tap';
import { AUTO_CREATED_DESCRIPTION } from '../src/leek/agents.js';
import { LIFECYCLE, ingestHarness } from './fixtures/agent.js';

t.test('OPTIONS answers 200 without any header check', async (t) => {
  const h = await ingestHarness(t);
  const res = await h.app.inject({ method: 'OPTIONS', url: '/v1/events/process' });
  t.equal(res.statusCode, 200);
  t.equal(res.json(), 'OK');
});

t.test('GET: 200 "Ready!" for the app’s key; the env header is not needed', async (t) => {
  const h = await ingestHarness(t);
  const res = await h.ready({ env: undefined });
  t.equal(res.statusCode, 200);
  t.equal(res.body, '"Ready!"');
});

t.test('GET: missing headers 400 400001, wrong key 401 401001, unknown app 404 404001', async (t) => {
  const h = await ingestHarness(t);
  for (const missing of ['org', 'app', 'key'] as const) {
    const res = await h.ready({ [missing]: undefined });
    t.equal(res.statusCode, 400, missing);
    t.equal(res.json().error.code, 400001);
  }
  const wrong = await h.ready({ key: 'app-wrong' });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().error.code, 401001);
  const unknown = await h.ready({ app: 'payroll' });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().error.code, 404001);
  const otherOrg = await h.ready({ org: 'acme.io' });
  t.equal(otherOrg.statusCode, 404, 'the same app name in another org does not exist');
});

t.test('auto-create: only when enabled, with the shared secret, for the secret’s org', async (t) => {
  const h = await ingestHarness(t, { leekAutoCreateApps: true, agentSecret: 'shared-secret-123', agentSecretOrg: 'mono' });
  const created = await h.ready({ app: 'payroll', key: 'shared-secret-123' });
  t.equal(created.statusCode, 200);
  t.equal(created.json(), 'Ready!');
  const record = await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('mono', 'payroll'));
  t.match(record, {
    org: 'mono',
    app_name: 'payroll',
    owner: 'public',
    app_key: 'shared-secret-123',
    fo_triggers: [],
    app_description: AUTO_CREATED_DESCRIPTION,
  });
  t.equal((await h.post(LIFECYCLE[0], { app: 'payroll', key: 'shared-secret-123' })).statusCode, 201, 'agents can send right away');
  t.equal((await h.ready({ app: 'payroll', key: 'shared-secret-123' })).statusCode, 200, 'a second check finds it');

  const wrongKey = await h.ready({ app: 'audit', key: 'not-the-secret' });
  t.equal(wrongKey.statusCode, 404, 'an agent without the secret creates nothing');
  const otherOrg = await h.ready({ org: 'acme.io', app: 'audit', key: 'shared-secret-123' });
  t.equal(otherOrg.statusCode, 404, 'nor in another org');
  t.notOk(await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('acme.io', 'audit')));
  t.notOk(await h.ctx.store.collections.get(LEEK_APPLICATIONS, leekScope('mono', 'audit')));
  const post = await h.post(LIFECYCLE[0], { app: 'audit', key: 'shared-secret-123' });
  t.equal(post.statusCode, 404, 'POST never creates apps');
});

t.test('auto-create is off by default', async (t) => {
  const h = await ingestHarness(t, { agentSecret: 'shared-secret-123', agentSecretOrg: 'mono' });
  t.equal((await h.ready({ app: 'payroll', key: 'shared-secret-123' })).statusCode, 404);
});
