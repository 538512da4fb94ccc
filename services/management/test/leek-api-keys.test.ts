import t from 'tap';
import { harness } from './helpers.js';

t.test('an API key created with an org can manage that org’s task-monitor apps; one without cannot', async (t) => {
  const h = await harness(t);
  const withOrg = await h.api('create_api_key', { title: 'Agent tooling', org: 'acme.io', privileges: {} }, h.admin);
  t.equal(withOrg.body.code, 0);
  t.match(withOrg.body.plain_key, /^[\w-]{43}$/, 'the plain key is answered once');
  const key = String(withOrg.body.plain_key);
  const created = await h.call({
    method: 'POST',
    url: '/v1/applications',
    headers: { 'x-api-key': key },
    payload: { app_name: 'billing', app_description: 'Billing workers' },
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal(created.body.app_name, 'billing');
  const listed = await h.call({ method: 'GET', url: '/v1/applications', headers: { 'x-api-key': key } });
  t.same(
    (listed.body as unknown as { app_name: string }[]).map((a) => a.app_name),
    ['billing'],
  );

  const withoutOrg = await h.api('create_api_key', { title: 'No org', privileges: {} }, h.admin);
  const plain = String(withoutOrg.body.plain_key);
  const refused = await h.call({ method: 'GET', url: '/v1/applications', headers: { 'x-api-key': plain } });
  t.equal(refused.status, 401);
  t.equal(refused.body.error?.code, 401003);

  const badOrg = await h.api('create_api_key', { title: 'Bad org', org: 'ACME/../x', privileges: {} }, h.admin);
  t.equal(badOrg.body.code, 'api', 'an org that is not a domain or mailbox name is refused');
});
