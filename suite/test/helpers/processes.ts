/** Runs built service entry points as real processes on free ports, and stops them at teardown. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
export { freePort } from '@shallot/core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function start(script: string, env: NodeJS.ProcessEnv, t: { teardown(fn: () => unknown): void }): RunningProcess {
  const child = spawn(process.execPath, [join(ROOT, script)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  t.teardown(async () => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await stop();
    clearTimeout(timer);
  });
  return { child, output: () => output, stop, exited };
}

/** Polls until `predicate` is true, or fails with what the process printed. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  proc?: RunningProcess,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    if (proc && proc.child.exitCode !== null) throw new Error(`${what}: process exited early:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: timed out${proc ? `; output:\n${proc.output()}` : ''}`);
}

export async function isReady(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/ready`)).status === 200;
  } catch {
    return false;
  }
}
