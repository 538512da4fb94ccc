/**
 * The jobs engine end to end through the suite's one port (issue 10 "What it must show"): a category, a secret and a
 * shell event; run_event; the live log tailed while the job runs; completion with code 0, its log and `data` from
 * the plugin protocol; the secret reaches the script's environment but no record or log; a time limit aborts a
 * sleeping job; a web hook action reaches a local receiver.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ACTIVITY_INDEX, JOBS_INDEX, blobStoreFor, readEventState } from '@shallot/core';
import { testContext, webHookReceiver } from '@shallot/core/testing';
import t from 'tap';
import { buildSuite } from '../src/suite.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;

const SECRET_VALUE = 'pa55-w0rd-xyz-917';

async function start(t: Parameters<typeof testContext>[0]) {
  const ctx = await testContext(t, { webhookAllow: '127.0.0.1', heartbeatSeconds: 2 });
  const suite = await buildSuite(ctx);
  await suite.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => suite.close());
  const base = `http://127.0.0.1:${(suite.server.address() as AddressInfo).port}`;
  let session = '';
  const call = async (name: string, body: Json = {}) => {
    const response = await fetch(`${base}/api/app/${name}/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': session },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Json;
  };
  const login = await fetch(`${base}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin-test-password' }),
  });
  session = String(((await login.json()) as Json).session_id);
  const waitJob = async (id: string, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const answer = await call('get_job', { id });
      if (answer.code === 0 && answer.job.state === 'complete') return answer;
      if (Date.now() > until) throw new Error(`job ${id} did not complete: ${JSON.stringify(answer)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { ctx, base, call, waitJob, session: () => session };
}

t.test('jobs: a shell event with a secret runs, streams its log, reports data and fires a web hook', async (t) => {
  const { ctx, base, call, waitJob, session } = await start(t);
  const receiver = await webHookReceiver(t);
  t.equal((await call('create_category', { id: 'ops', title: 'Ops' })).code, 0);
  const hook = await call('create_web_hook', {
    id: 'notify',
    title: 'Notify',
    method: 'POST',
    url: receiver.url('/done'),
    body: '{"text":"{{text}}","code":"{{job.code}}"}',
  });
  t.equal(hook.code, 0, JSON.stringify(hook));
  const proof = join(ctx.config.dataDir, 'secret-proof.txt');
  const script = [
    '#!/bin/sh',
    'echo "starting job $JOB_ID"',
    `printf '%s' "$DB_PASSWORD" > ${proof}`,
    'echo \'{"xy":1,"progress":0.5,"status":"half way"}\'',
    'i=0; while [ $i -lt 20 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done',
    'echo \'{"xy":1,"data":{"rows":42,"greeting":"hi"}}\'',
    'echo "done"',
  ].join('\n');
  const event = await call('create_event', {
    title: 'Shell job',
    enabled: true,
    category: 'ops',
    plugin: 'shellplug',
    targets: ['main'],
    algo: 'random',
    params: { script },
    triggers: [{ type: 'manual', enabled: true }],
    actions: [{ enabled: true, condition: 'success', type: 'web_hook', web_hook: 'notify' }],
  });
  t.equal(event.code, 0, JSON.stringify(event));
  const secret = await call('create_secret', {
    title: 'DB',
    events: [event.event.id],
    fields: [{ name: 'DB_PASSWORD', value: SECRET_VALUE }],
  });
  t.equal(secret.code, 0, JSON.stringify(secret));

  const run = await call('run_event', { id: event.event.id });
  t.equal(run.code, 0, JSON.stringify(run));
  t.match(run.id, /^j/);

  // Live tail while it runs.
  let tailed = '';
  let sawActive = false;
  for (let i = 0; i < 100 && !tailed.includes('line '); i++) {
    const active = await call('get_active_jobs', {});
    if (active.rows.some((j: Json) => j.id === run.id && j.state === 'active')) sawActive = true;
    const tail = await call('tail_live_job_log', { id: run.id });
    t.equal(tail.code, 0);
    tailed = tail.text;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(sawActive, 'the job was listed as active');
  t.match(tailed, /starting job j/, 'the live log was tailed while the job ran');

  const done = await waitJob(run.id);
  const job = done.job;
  t.equal(job.code, 0, JSON.stringify(job.description));
  t.same(job.data, { rows: 42, greeting: 'hi' }, 'data from the plugin protocol');
  t.match(job.output, /starting job j[\s\S]*line 19[\s\S]*done/, 'the log is stored with the job');
  t.notMatch(job.output, /"xy":1/, 'protocol lines are not log');
  t.ok(job.tags.includes('_success'));
  t.equal(readFileSync(proof, 'utf8'), SECRET_VALUE, 'the secret reached the script environment');

  // The log by token, and by session.
  const view = await fetch(`${base}/api/app/view_job_log/v1?id=${run.id}&t=${done.token}`);
  t.equal(view.status, 200);
  t.match(await view.text(), /line 5/);
  const forged = await fetch(`${base}/api/app/view_job_log/v1?id=${run.id}&t=AAAAAAAAAAAAAAAAAAAAAA`);
  t.equal(forged.status, 403);
  const download = await fetch(`${base}/api/app/download_job_log/v1?id=${run.id}&t=${done.token}`);
  t.match(download.headers.get('content-disposition') ?? '', /attachment; filename=xyOps-Job-Log-/);
  const byId = await fetch(`${base}/api/app/get_job_log/v1?id=${run.id}`, { headers: { 'x-session-id': session() } });
  t.match(await byId.text(), /done/);

  // The web hook action fired with the job's hook data, and its outcome is on the job.
  for (let i = 0; i < 50 && receiver.at('/done').length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(receiver.at('/done').length, 1, 'web hook received');
  t.match(receiver.at('/done')[0]?.body, /"code":"0"/);
  t.equal(job.actions[0].code, 0, 'action outcome recorded on the job');

  // The secret value is in no record or log.
  const stored = JSON.stringify(await ctx.store.indexes.search(JOBS_INDEX.name, '', { limit: 100 }));
  t.notMatch(stored, SECRET_VALUE, 'not in job records');
  const activity = JSON.stringify(await ctx.store.indexes.search(ACTIVITY_INDEX.name, '', { limit: 1000 }));
  t.notMatch(activity, SECRET_VALUE, 'not in activity');
  t.notMatch(JSON.stringify(done), SECRET_VALUE, 'not in get_job');

  const history = await call('get_event', { id: event.event.id });
  t.same(history.jobs, [], 'no active jobs left');
});

t.test('jobs: a time limit aborts a sleeping job; abort_job stops a job; bad runs are refused', async (t) => {
  const { call, waitJob } = await start(t);
  const event = await call('create_event', {
    title: 'Sleeper',
    enabled: true,
    category: 'general',
    plugin: 'shellplug',
    targets: ['main'],
    algo: 'prefer_first',
    params: { script: '#!/bin/sh\necho sleeping\nsleep 30\necho never' },
    triggers: [{ type: 'manual', enabled: true }],
    limits: [{ type: 'time', enabled: true, duration: 1 }],
  });
  t.equal(event.code, 0, JSON.stringify(event));
  const started = Date.now();
  const run = await call('run_event', { id: event.event.id });
  const { job } = await waitJob(run.id);
  t.equal(job.code, 'abort');
  t.match(job.description, /Maximum run time exceeded/);
  t.ok(Date.now() - started < 10_000, 'aborted long before the sleep ended');
  t.notMatch(job.output ?? '', /never/);

  const manual = await call('create_event', {
    title: 'Manual abort',
    enabled: true,
    category: 'general',
    plugin: 'shellplug',
    targets: ['main'],
    algo: 'random',
    params: { script: '#!/bin/sh\nsleep 30' },
    triggers: [{ type: 'manual', enabled: true }],
  });
  const second = await call('run_event', { id: manual.event.id });
  for (let i = 0; i < 50; i++) {
    const { job: j } = await call('get_job', { id: second.id });
    if (j.state === 'active') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal((await call('abort_job', { id: second.id })).code, 0);
  const aborted = (await waitJob(second.id)).job;
  t.equal(aborted.code, 'abort');
  t.match(aborted.description, /Manually aborted by user: admin/);

  // Refusals, with nothing created.
  const noManual = await call('create_event', {
    title: 'No manual',
    enabled: true,
    category: 'general',
    plugin: 'shellplug',
    targets: ['main'],
    algo: 'random',
    params: { script: '#!/bin/sh' },
  });
  const refused = await call('run_event', { id: noManual.event.id });
  t.equal(refused.code, 'event');
  t.match(refused.description, /does not allow manual job runs/);
  t.equal((await call('run_event', { id: 'no_such_event' })).code, 'event');
  t.equal((await call('run_event', {})).code, 'event');
  const reserved = await call('run_event', { id: event.event.id, params: { _xy_override_command: 'rm' } });
  t.equal(reserved.code, 'api');
  t.equal((await call('get_active_jobs', {})).list.length, 0, 'no job was created by a refused run');
  const test = await call('run_event', { id: noManual.event.id, test: true });
  t.equal(test.code, 0, 'a test run bypasses the manual trigger');
  const tested = (await waitJob(test.id)).job;
  t.ok(tested.tags.includes('_test'));
  t.equal((await call('delete_job', { id: tested.id })).code, 0);
  t.equal((await call('get_job', { id: tested.id })).code, 'notfound');
});

t.test('jobs: concurrency and queue limits, retries, run_event and disable actions, job control calls', async (t) => {
  const { ctx, base, call, waitJob, session } = await start(t);
  const testEvent = (title: string, extra: Json = {}) =>
    call('create_event', {
      title,
      enabled: true,
      category: 'general',
      plugin: 'testplug',
      targets: ['main'],
      algo: 'fewest_jobs',
      params: { duration: 1, action: 'Success' },
      triggers: [{ type: 'manual', enabled: true }],
      ...extra,
    });

  // One at a time, two may wait, the fourth is refused.
  const limited = (
    await testEvent('Limited', {
      params: { duration: 3, action: 'Success' },
      limits: [
        { type: 'job', enabled: true, amount: 1 },
        { type: 'queue', enabled: true, amount: 2 },
      ],
    })
  ).event;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push((await call('run_event', { id: limited.id })).id);
    await new Promise((r) => setTimeout(r, 300));
  }
  const summary = await call('get_active_job_summary', {});
  t.same(summary.events[limited.id].states, { active: 1, queued: 2 }, JSON.stringify(summary));
  const got = await call('get_event', { id: limited.id });
  t.equal(got.queued, 2);
  const fourth = (await waitJob(ids[3] as string)).job;
  t.equal(fourth.code, 'abort');
  t.match(fourth.description, /queue is maxed out/);
  for (const id of ids.slice(0, 3)) t.equal((await waitJob(id, 40_000)).job.code, 0, 'queued jobs ran in turn');

  // flush_event_queue removes queued jobs without running them.
  const q1 = (await call('run_event', { id: limited.id })).id;
  await new Promise((r) => setTimeout(r, 300));
  const q2 = (await call('run_event', { id: limited.id })).id;
  await new Promise((r) => setTimeout(r, 300));
  const flushed = await call('flush_event_queue', { id: limited.id });
  t.equal(flushed.count, 1);
  t.equal((await call('get_job', { id: q2 })).code, 'notfound', 'the queued job is gone');
  await waitJob(q1);

  // Retries: an erroring job is retried once after a delay; the chain is linked.
  const failing = (
    await testEvent('Failing', {
      params: { duration: 0, action: 'Error' },
      limits: [{ type: 'retry', enabled: true, amount: 1, duration: 1 }],
    })
  ).event;
  const first = (await waitJob((await call('run_event', { id: failing.id })).id)).job;
  t.equal(first.code, 999);
  t.equal(first.retried, true);
  t.ok(first.tags.includes('_retried'));
  const retryId = first.jobs[0].id;
  const retry = (await waitJob(retryId)).job;
  t.equal(retry.retry_count, 1);
  t.equal(retry.retry_prev, first.id);
  t.notOk(retry.retried, 'only one retry');
  t.ok(retry.tags.includes('_last'));

  // run_event and disable actions: success launches the follow-up with the parent's data, then disables the event.
  const follow = (await testEvent('Follow-up', { params: { duration: 0 } })).event;
  const chain = (
    await testEvent('Chain', {
      params: { duration: 0 },
      actions: [
        { enabled: true, condition: 'success', type: 'run_event', event_id: follow.id },
        { enabled: true, condition: 'complete', type: 'disable' },
        { enabled: true, condition: 'success', type: 'tag', tags: ['important'] },
      ],
    })
  ).event;
  const parent = (await waitJob((await call('run_event', { id: chain.id })).id)).job;
  t.equal(parent.code, 0);
  t.ok(parent.tags.includes('important'), 'tag action');
  t.equal(parent.jobs[0].reason, 'action');
  const child = (await waitJob(parent.jobs[0].id)).job;
  t.equal(child.source, 'action');
  t.equal(child.parent.job, parent.id);
  t.same(child.input.data, { test: true, duration: 0 }, "the parent's output data is the child's input");
  t.equal((await call('get_event', { id: chain.id })).event.enabled, false, 'disabled by its action');
  t.equal((await call('run_event', { id: chain.id })).code, 'event', 'a disabled event does not run');

  // get_jobs prunes heavy fields unless verbose; unknown ids answer err.
  const many = await call('get_jobs', { ids: [parent.id, 'jnope'] });
  t.notOk('actions' in many.jobs[0]);
  t.equal(many.jobs[1].err, 'Job not found');
  t.ok('actions' in (await call('get_jobs', { ids: [parent.id], verbose: true })).jobs[0]);
  t.notOk('output' in (await call('get_job', { id: parent.id, remove: ['output'] })).job);

  // Tags and admin updates on completed jobs; the event's state is kept.
  t.equal((await call('manage_job_tags', { id: parent.id, tags: ['flag'] })).code, 0);
  const tagged = (await call('get_job', { id: parent.id })).job;
  t.ok(tagged.tags.includes('flag') && tagged.tags.includes('_success') && !tagged.tags.includes('important'));
  t.equal((await call('update_job', { id: parent.id, label: 'checked' })).code, 0);
  t.equal((await call('get_job', { id: parent.id })).job.label, 'checked');
  const state = await readEventState(ctx.redis, chain.id);
  t.equal(state.last_job, parent.id);
  t.equal(state.total_count, 1);
  t.equal((await call('abort_job', { id: parent.id })).code, 'job', 'a completed job cannot be aborted');
  t.equal((await call('resume_job', { id: parent.id })).code, 'job');

  // A job for a target no server matches.
  const nowhere = (await testEvent('Nowhere', { targets: ['no_such_server'] })).event;
  const lost = (await waitJob((await call('run_event', { id: nowhere.id })).id)).job;
  t.equal(lost.code, 'error');
  t.match(lost.description, /No available servers/);

  // /wait answers with the completed job.
  const quick = (await testEvent('Quick', { params: { duration: 0 } })).event;
  const waited = await fetch(`${base}/api/app/run_event/v1/wait`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': session() },
    body: JSON.stringify({ id: quick.id }),
  });
  const answer = (await waited.json()) as Json;
  t.equal(answer.code, 0, JSON.stringify(answer));
  t.equal(answer.job.state, 'complete');
  t.equal(answer.job.code, 0);
});

t.test('jobs: multipart run_event stores the files as the job input; a refused run leaves none', async (t) => {
  const { ctx, base, call, waitJob, session } = await start(t);
  const event = await call('create_event', {
    title: 'With files',
    enabled: true,
    category: 'general',
    plugin: 'testplug',
    targets: ['main'],
    algo: 'random',
    params: { duration: 0 },
    triggers: [{ type: 'manual', enabled: true }],
  });
  const form = new FormData();
  form.append('json', JSON.stringify({ id: event.event.id, input: { data: { greeting: 'hello' } } }));
  form.append('file1', new Blob(['id,value\n1,alpha\n']), 'Input Data.csv');
  form.append('file2', new Blob(['hello world']), 'notes.txt');
  const res = await fetch(`${base}/api/app/run_event/v1`, { method: 'POST', headers: { 'x-session-id': session() }, body: form });
  const answer = (await res.json()) as Json;
  t.equal(answer.code, 0, JSON.stringify(answer));
  const { job } = await waitJob(answer.id);
  t.same(job.input.data, { greeting: 'hello' });
  t.same(
    job.input.files.map((f: Json) => f.filename),
    ['input_data.csv', 'notes.txt'],
  );
  t.match(job.input.files[0].path, /^files\/admin\/[\w-]+\/input_data\.csv$/);
  const blobs = blobStoreFor(ctx.config);
  t.equal((await blobs.get(job.input.files[0].path))?.toString(), 'id,value\n1,alpha\n', 'the file is stored');
  t.ok(job.tags.includes('_files'));

  // Refused (unknown event): the uploaded file is not kept.
  const refused = new FormData();
  refused.append('json', JSON.stringify({ id: 'no_such_event' }));
  refused.append('file1', new Blob(['data']), 'orphan.txt');
  const bad = (await (
    await fetch(`${base}/api/app/run_event/v1`, { method: 'POST', headers: { 'x-session-id': session() }, body: refused })
  ).json()) as Json;
  t.equal(bad.code, 'event');
  const listing = readdirSync(join(ctx.config.dataDir, 'storage', 'files', 'admin'), { recursive: true }).map(String);
  t.notOk(
    listing.some((name) => name.endsWith('orphan.txt')),
    'no file left behind',
  );
  const broken = new FormData();
  broken.append('json', '{not json');
  t.equal(
    (
      (await (
        await fetch(`${base}/api/app/run_event/v1`, { method: 'POST', headers: { 'x-session-id': session() }, body: broken })
      ).json()) as Json
    ).code,
    'api',
  );
});
