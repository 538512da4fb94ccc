/**
 * The shell plugin (`[shell-plugin]`): the `script` param is written to a file in the job's temp dir and run as a
 * child process in its own process group (so abort and limits kill the whole tree). Params and secrets reach it in
 * the environment; the job (without secrets) is on stdin as `{xy:1, type:"event", …job}`. Stdout is parsed with the
 * plugin protocol; stderr is log.
 */
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineSplitter, parseLine } from './protocol.js';
import type { JobPlugin, PluginResult, PluginRun } from './types.js';

/** Grace between SIGTERM and SIGKILL for the process group. @default 5000 ms */
export const KILL_GRACE_MS = 5000;
/** Environment the child inherits from the runner; everything else is the job's own. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The child's environment (data-structures §7): JOB_* values, each param, secrets. */
export function jobEnvironment(run: Pick<PluginRun, 'job' | 'secrets'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name] as string;
  const { job } = run;
  env.XYOPS = '1';
  env.JOB_ID = job.id;
  env.JOB_NOW = envValue(job.now);
  env.JOB_EVENT = envValue(job.event);
  env.JOB_SERVER = envValue(job.server);
  const params = (job.params as Record<string, unknown>) ?? {};
  for (const [key, value] of Object.entries(params)) if (ENV_NAME.test(key) && key !== 'script') env[key] = envValue(value);
  const data = ((job.input as { data?: unknown } | undefined)?.data ?? {}) as Record<string, unknown>;
  if (data && typeof data === 'object')
    for (const [key, value] of Object.entries(data)) if (ENV_NAME.test(key)) env[`data_${key}`] = envValue(value);
  for (const [key, value] of Object.entries(run.secrets)) if (ENV_NAME.test(key)) env[key] = value;
  return env;
}

/** Runs an executable file as a process-group leader and speaks the plugin protocol with it. */
export function runProcess(file: string, args: string[], run: PluginRun): Promise<PluginResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: run.tempDir, env: jobEnvironment(run), detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let completion: PluginResult | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    run.signal.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) run.update({ pid: child.pid });

    const stdout = new LineSplitter((line) => {
      const parsed = parseLine(line);
      if (parsed.kind === 'log') run.log(parsed.text ?? '');
      else if (parsed.kind === 'update') run.update(parsed.fields ?? {});
      else {
        const { code, description, ...fields } = parsed.fields ?? {};
        completion = { code: code as number | string, ...(description !== undefined ? { description: String(description) } : {}), fields };
        run.update(fields);
      }
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => stdout.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => run.log(chunk));
    child.stdin.on('error', () => {
      // A script that never reads stdin closes it early.
    });
    const { secrets: _secrets, ...job } = run.job as Record<string, unknown>;
    child.stdin.end(`${JSON.stringify({ xy: 1, type: 'event', ...job })}\n`);

    child.on('error', (error) => {
      run.signal.removeEventListener('abort', onAbort);
      resolve({ code: 'error', description: `Failed to start the plugin: ${error.message}` });
    });
    child.on('close', (exitCode, signal) => {
      stdout.end();
      run.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the script left running in its group goes with it.
      killGroup('SIGKILL');
      if (completion) return resolve(completion);
      if (exitCode === 0) return resolve({ code: 0 });
      resolve({
        code: exitCode ?? 'error',
        description: signal ? `Script was killed by signal ${signal}` : `Script exited with code ${exitCode}`,
      });
    });
  });
}

export const shellPlugin: JobPlugin = {
  command: '[shell-plugin]',
  async run(run) {
    const script = String((run.job.params as { script?: unknown } | undefined)?.script ?? '');
    if (!script.trim()) return { code: 'error', description: 'The shell plugin needs a script' };
    const file = join(run.tempDir, 'script');
    await writeFile(file, script.endsWith('\n') ? script : `${script}\n`, { mode: 0o700 });
    await chmod(file, 0o700);
    // A script without a shebang runs under /bin/sh.
    return script.startsWith('#!') ? runProcess(file, [], run) : runProcess('/bin/sh', [file], run);
  },
};
