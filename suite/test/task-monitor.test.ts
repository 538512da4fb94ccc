/**
 * The task monitor end to end, as an operator and an agent use it: the whole suite on one port, real HTTP, real
 * Redis, the job-runner delivering to a Slack receiver on loopback; on a real SQLite file, and on OpenSearch (Painless
 * merges, the cluster's search and aggregations) when OPENSEARCH_URL is set (scripts/test.mjs starts one).
 */
import type { AddressInfo } from 'node:net';
import { type TestStoreEngine, testContext, testStoreEngines, webHookReceiver } from '@shallot/core/testing';
import t, { type Test } from 'tap';
import { LIFECYCLE, RETRIES, RETRY_TASK_ID, TASK_ID, WORKER, WORKER_ID } from '../../services/ingest/test/fixtures/agent.js';
import { buildSuite } from '../src/suite.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;

for (const store of testStoreEngines()) {
  t.test(
    `${store.engine}: task monitor: create an app, ingest an agent conversation, search it, and get one Slack message per transition`,
    (t) => endToEnd(t, store),
  );
}

async function endToEnd(t: Test, store: TestStoreEngine): Promise<void> {
  const receiver = await webHookReceiver(t);
  const slackPath = '/services/T000/B000/XXXX';
  const slackUrl = receiver.url(slackPath);
  const slackMessages = (): Json[] => receiver.at(slackPath).map((r) => JSON.parse(r.body) as Json);

  const ctx = await testContext(t, { webhookAllow: '127.0.0.1', publicUrl: 'https://shallot.example', ...store.overrides(t) });
  const suite = await buildSuite(ctx);
  await suite.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => suite.close());
  const base = `http://127.0.0.1:${(suite.server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  // The operator: log in, create the application, add a trigger.
  const login = await call('POST', '/api/user/login', {}, { username: 'admin', password: 'admin-test-password' });
  const operator = { 'x-session-id': String(login.body.session_id) };
  const created = await call('POST', '/v1/applications', operator, { app_name: 'billing', app_description: 'Billing workers' });
  t.equal(created.status, 201);
  const org = 'localhost'; // the admin's e-mail is admin@localhost
  const app = { ...operator, 'x-leek-app-name': 'billing' };
  const trigger = await call('POST', '/v1/applications/fo-triggers', app, {
    enabled: true,
    type: 'slack',
    slack_wh_url: slackUrl,
    states: ['SUCCEEDED', 'CRITICAL'],
    envs: ['prod'],
  });
  t.equal(trigger.status, 200, JSON.stringify(trigger.body));
  t.equal(slackMessages().length, 1, 'the web hook was verified with a message before the trigger was saved');
  t.match(slackMessages()[0], { text: /application billing[\s\S]*Environments: prod[\s\S]*States: SUCCEEDED, CRITICAL/ });
  const notifications = () => slackMessages().slice(1);

  // The agent: every batch of §10 in turn, each answered 201 only once stored.
  const agent = {
    'x-leek-org-name': org,
    'x-leek-app-name': 'billing',
    'x-leek-app-key': String(created.body.app_key),
    'x-leek-app-env': 'prod',
  };
  t.equal((await call('GET', '/v1/events/process', agent)).status, 200, 'the readiness check passes');
  for (const batch of [...LIFECYCLE, ...RETRIES, ...WORKER]) {
    const answer = await call('POST', '/v1/events/process', agent, batch);
    t.equal(answer.status, 201);
  }

  // Read back exactly the merged documents.
  const byId = async (id: string) => {
    const found = await call('POST', '/v1/search?size=10&from_=0', app, { query: { bool: { filter: [{ term: { _id: id } }] } } });
    return found.body.hits?.hits?.[0]?._source as Json | undefined;
  };
  const charged = await byId(TASK_ID);
  t.equal(charged?.state, 'SUCCEEDED');
  t.same(charged?.events, ['SUCCEEDED', 'STARTED', 'RECEIVED', 'QUEUED']);
  t.equal(charged?.events_count, 4);
  t.notOk(charged && 'root_id' in charged, 'a task that is its own root has no root_id');
  t.equal(charged?.client, 'gen123@web-1');
  t.equal(charged?.worker, 'celery@worker-a');
  const retried = await byId(RETRY_TASK_ID);
  t.equal(retried?.state, 'CRITICAL');
  t.equal(retried?.events_count, 6);
  const worker = await byId(WORKER_ID);
  t.equal(worker?.state, 'OFFLINE');

  // The metrics the spec predicts: one task per final state, one worker.
  const metrics = await call('POST', '/v1/search?size=0&from_=0', app, {
    aggs: { kinds: { terms: { field: 'kind' } }, states: { terms: { field: 'state' } }, runtime: { avg: { field: 'runtime' } } },
  });
  t.equal(metrics.body.hits.total.value, 3);
  const buckets = (name: string) =>
    Object.fromEntries((metrics.body.aggregations[name].buckets as Json[]).map((b) => [b.key, b.doc_count]));
  t.same(buckets('kinds'), { task: 2, worker: 1 });
  t.same(buckets('states'), { CRITICAL: 1, OFFLINE: 1, SUCCEEDED: 1 });
  t.equal(metrics.body.aggregations.runtime.value, 2.49);

  // One Slack message per matching transition, none for the redelivered batch.
  const deadline = Date.now() + 15_000;
  while (notifications().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const finalBatch = LIFECYCLE[LIFECYCLE.length - 1];
  t.equal((await call('POST', '/v1/events/process', agent, finalBatch)).status, 201, 'a redelivered batch is accepted');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(notifications().length, 2, 'exactly one message per matching task');
  const texts = notifications().map((m) => JSON.stringify(m));
  t.ok(texts.some((m) => m.includes('billing.tasks.charge_invoice') && m.includes('SUCCEEDED')));
  t.ok(texts.some((m) => m.includes('CRITICAL')));
  t.ok(
    texts.every((m) => m.includes('billing') && m.includes('prod')),
    'each names the app and env',
  );
}
