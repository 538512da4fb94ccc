/** The shell plugin with real processes: environment, protocol, exit codes, and killing the whole process group. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { shellPlugin } from '../src/plugins/shell.js';
import type { JobUpdate, PluginRun } from '../src/plugins/types.js';

async function runScript(t: Test, script: string, options: { secrets?: Record<string, string>; abortAfterMs?: number } = {}) {
  const tempDir = await mkdtemp(join(tmpdir(), 'shell-plugin-test-'));
  t.teardown(() => rm(tempDir, { recursive: true, force: true }));
  const controller = new AbortController();
  let log = '';
  const updates: JobUpdate[] = [];
  const run: PluginRun = {
    job: { id: 'jshelltest', now: 1700000000, params: { script, greeting: 'hello world', count: 3, cfg: { a: 1 } } },
    plugin: {},
    secrets: options.secrets ?? {},
    tempDir,
    signal: controller.signal,
    log: (text) => {
      log += text;
    },
    update: (fields) => updates.push(fields),
  };
  if (options.abortAfterMs) setTimeout(() => controller.abort(), options.abortAfterMs);
  const result = await shellPlugin.run(run);
  return { result, log: () => log, updates };
}

/** Running (a zombie waiting for a reaper does not count: it is dead, only not collected). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

t.test('shell: params and secrets in the environment, protocol parsed, stdin carries the job', async (t) => {
  const { result, log, updates } = await runScript(
    t,
    [
      '#!/bin/sh',
      'echo "id=$JOB_ID now=$JOB_NOW greeting=$greeting count=$count cfg=$cfg token=$API_TOKEN"',
      'read line; echo "stdin: $line" | cut -c1-40',
      'echo \'{"xy":1,"progress":0.25}\'',
      'echo to stderr >&2',
      'echo \'{"xy":1,"code":0,"description":"all good","data":{"n":1}}\'',
    ].join('\n'),
    { secrets: { API_TOKEN: 'tok-123' } },
  );
  t.match(log(), /id=jshelltest now=1700000000 greeting=hello world count=3 cfg=\{"a":1\} token=tok-123/);
  t.match(log(), /stdin: \{"xy":1,"type":"event"/);
  t.match(log(), /to stderr/);
  t.same(result, { code: 0, description: 'all good', fields: { data: { n: 1 } } });
  t.ok(updates.some((u) => u.progress === 0.25));
  t.ok(
    updates.some((u) => typeof u.pid === 'number'),
    'pid reported',
  );
});

t.test('shell: exit codes, scripts without a shebang, an empty script', async (t) => {
  t.same((await runScript(t, '#!/bin/sh\nexit 3')).result, { code: 3, description: 'Script exited with code 3' });
  const plain = await runScript(t, 'echo plain sh');
  t.equal(plain.result.code, 0);
  t.match(plain.log(), /plain sh/);
  t.equal((await runScript(t, '   ')).result.code, 'error');
});

t.test('shell: abort kills the whole process group, children included', async (t) => {
  const started = Date.now();
  const { result, log } = await runScript(t, '#!/bin/sh\nsleep 60 &\necho "child $!"\nsleep 60\n', { abortAfterMs: 500 });
  t.ok(Date.now() - started < 10_000, 'returns promptly');
  t.not(result.code, 0);
  const child = Number(/child (\d+)/.exec(log())?.[1]);
  t.ok(child > 0);
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(alive(child), 'the background child was killed with its group');
});
