/**
 * Scheduler plugins (behaviour §8 `plugin` trigger): a scheduled hit of an event with a plugin trigger launches only
 * when the trigger's scheduler plugin says so. Hits for the same plugin that arrive together are batched into one
 * process run: stdin `{xy:1, type:"trigger", items:[{plugin_id, params, timezone, dargs, now, job}], secrets,
 * base_url, active_jobs}`; the last stdout line `{xy:1, items:[bool | {launch, delay?, data?, invisible?}]}` is
 * aligned with the items. A plugin that fails, times out or answers badly launches nothing, and says why in the log.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WallParts } from '@shallot/core/schedule';
import { commandLine, numericId } from '../plugins/command-line.js';

type Fields = Record<string, unknown>;

/** Default run time of a scheduler plugin (data-structures §5 `timeout`). @default 30 s */
export const DEFAULT_GATE_TIMEOUT_SECONDS = 30;
/** How long hits for one plugin are gathered before its process runs. @default 50 ms */
export const DEFAULT_GATE_WINDOW_MS = 50;
/** Hits per process run at most; more start another run. @default 500 */
export const MAX_GATE_BATCH = 500;
/** Stdout kept from a scheduler plugin: its answer is one line. @default 4 MiB */
const MAX_STDOUT_BYTES = 4 * 1024 * 1024;
const KILL_GRACE_MS = 2000;
const INHERITED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL'];

/** The date parts of a hit in the trigger's time zone (xyOps `dargs`: year, month, day, rday, weekday, hour, minute). */
export type DateArgs = WallParts;

export interface GateItem {
  plugin_id: string;
  params: Fields;
  timezone: string;
  dargs: DateArgs;
  now: number;
  job: Fields;
}

export type GateDecision = { launch: false; reason: string } | { launch: true; delay?: number; data?: Fields; invisible?: boolean };

const isObject = (value: unknown): value is Fields => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The decisions in a plugin's stdout, aligned with `count` items, or what is wrong with the answer. */
export function parseGateAnswer(stdout: string, count: number): GateDecision[] | { error: string } {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) return { error: 'The scheduler plugin printed nothing: its last line must be {"xy":1,"items":[…]}' };
  let answer: unknown;
  try {
    answer = JSON.parse(last);
  } catch {
    return { error: `The scheduler plugin's last line is not JSON: ${last.slice(0, 200)}` };
  }
  if (!isObject(answer) || answer.xy !== 1 || !Array.isArray(answer.items)) {
    return { error: 'The scheduler plugin\'s last line must be {"xy":1,"items":[…]}' };
  }
  if (answer.items.length !== count) {
    return { error: `The scheduler plugin answered ${answer.items.length} items for ${count}: items must align with the input` };
  }
  return answer.items.map((item, index): GateDecision => {
    if (item === true) return { launch: true };
    if (item === false || item === null || item === undefined) return { launch: false, reason: 'declined by the scheduler plugin' };
    if (!isObject(item)) return { launch: false, reason: `item ${index} is neither a boolean nor an object` };
    if (item.launch !== true) return { launch: false, reason: 'declined by the scheduler plugin' };
    const decision: GateDecision = { launch: true };
    if (item.delay !== undefined) {
      if (typeof item.delay !== 'number' || !Number.isFinite(item.delay) || item.delay < 0) {
        return { launch: false, reason: `item ${index}: delay must be a number of seconds ≥ 0` };
      }
      decision.delay = Math.round(item.delay);
    }
    if (item.data !== undefined) {
      if (!isObject(item.data)) return { launch: false, reason: `item ${index}: data must be an object` };
      decision.data = item.data;
    }
    if (item.invisible === true) decision.invisible = true;
    return decision;
  });
}

export interface GatePlugin {
  id: string;
  command?: unknown;
  script?: unknown;
  uid?: unknown;
  gid?: unknown;
  cwd?: unknown;
  timeout?: unknown;
}

export interface GateRunContext {
  secrets: Record<string, string>;
  baseUrl: string;
  activeJobs: Fields[];
}

/** Runs a scheduler plugin once for `items`: its stdout, or why it could not run to completion. */
export async function runGatePlugin(
  plugin: GatePlugin,
  items: GateItem[],
  context: GateRunContext,
): Promise<{ stdout: string } | { error: string }> {
  const uid = numericId(plugin.uid, '/etc/passwd');
  const gid = numericId(plugin.gid, '/etc/group');
  if (isObject(uid)) return uid;
  if (isObject(gid)) return gid;
  const dir = await mkdtemp(join(tmpdir(), 'shallot-splugin-'));
  try {
    let scriptFile: string | undefined;
    if (typeof plugin.script === 'string' && plugin.script.trim() !== '') {
      scriptFile = join(dir, 'script');
      await writeFile(scriptFile, plugin.script.endsWith('\n') ? plugin.script : `${plugin.script}\n`, { mode: 0o755 });
    }
    const line = commandLine(plugin.command, scriptFile);
    if ('error' in line) return line;
    const env: Record<string, string> = { XYOPS: '1' };
    for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name] as string;
    for (const [name, value] of Object.entries(context.secrets)) if (/^[A-Za-z_]\w*$/.test(name)) env[name] = value;
    const timeoutSeconds = typeof plugin.timeout === 'number' && plugin.timeout > 0 ? plugin.timeout : DEFAULT_GATE_TIMEOUT_SECONDS;
    const input = { xy: 1, type: 'trigger', items, secrets: context.secrets, base_url: context.baseUrl, active_jobs: context.activeJobs };
    return await new Promise((resolve) => {
      const child = spawn(line.file, line.args, {
        cwd: typeof plugin.cwd === 'string' && plugin.cwd !== '' ? plugin.cwd : dir,
        env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(uid !== undefined ? { uid } : {}),
        ...(gid !== undefined ? { gid } : {}),
      });
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      let stdout = '';
      let stderr = '';
      let failure: string | undefined;
      const timer = setTimeout(() => {
        failure = `The scheduler plugin ran longer than its timeout (${timeoutSeconds} s) and was killed`;
        killGroup();
      }, timeoutSeconds * 1000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.length > MAX_STDOUT_BYTES) {
          failure = `The scheduler plugin printed more than ${MAX_STDOUT_BYTES} bytes`;
          killGroup();
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-2000);
      });
      child.stdin.on('error', () => {
        // A plugin that never reads stdin closes it early; its answer still counts.
      });
      child.stdin.end(`${JSON.stringify(input)}\n`);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ error: `The scheduler plugin could not start: ${error.message}` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        setTimeout(killGroup, KILL_GRACE_MS).unref();
        if (failure) return resolve({ error: failure });
        if (code !== 0) {
          const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          return resolve({ error: `The scheduler plugin ${why}${stderr.trim() ? `: ${stderr.trim().slice(-500)}` : ''}` });
        }
        resolve({ stdout });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

interface Pending {
  item: GateItem;
  resolve: (decision: GateDecision) => void;
}

export interface GateDeps {
  /** The run context of one batch: secrets of the plugin, the suite's URL, the active jobs. */
  context(plugin: GatePlugin): Promise<GateRunContext>;
  run?: typeof runGatePlugin;
  windowMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

/** Gathers the hits of each plugin for a short window, runs the plugin once for them, and answers each hit. */
export class SchedulerPluginGate {
  readonly #batches = new Map<string, { plugin: GatePlugin; pending: Pending[]; timer: NodeJS.Timeout }>();
  constructor(private readonly deps: GateDeps) {}

  decide(plugin: GatePlugin, item: GateItem): Promise<GateDecision> {
    return new Promise((resolve) => {
      let batch = this.#batches.get(plugin.id);
      if (!batch) {
        const timer = setTimeout(() => this.#flush(plugin.id), this.deps.windowMs ?? DEFAULT_GATE_WINDOW_MS);
        batch = { plugin, pending: [], timer };
        this.#batches.set(plugin.id, batch);
      }
      batch.pending.push({ item, resolve });
      if (batch.pending.length >= MAX_GATE_BATCH) {
        clearTimeout(batch.timer);
        this.#flush(plugin.id);
      }
    });
  }

  #flush(pluginId: string): void {
    const batch = this.#batches.get(pluginId);
    if (!batch) return;
    this.#batches.delete(pluginId);
    void this.#run(batch.plugin, batch.pending);
  }

  async #run(plugin: GatePlugin, pending: Pending[]): Promise<void> {
    const items = pending.map((p) => p.item);
    let decisions: GateDecision[];
    try {
      const result = await (this.deps.run ?? runGatePlugin)(plugin, items, await this.deps.context(plugin));
      const parsed = 'error' in result ? result : parseGateAnswer(result.stdout, items.length);
      if ('error' in parsed) {
        this.deps.log?.warn({ plugin: plugin.id, items: items.length, reason: parsed.error }, 'scheduler plugin failed; nothing launched');
        decisions = items.map(() => ({ launch: false, reason: parsed.error }));
      } else {
        decisions = parsed;
      }
    } catch (error) {
      const reason = `The scheduler plugin could not run: ${(error as Error).message}`;
      this.deps.log?.warn({ plugin: plugin.id, reason }, 'scheduler plugin failed; nothing launched');
      decisions = items.map(() => ({ launch: false, reason }));
    }
    for (const [index, p] of pending.entries()) p.resolve(decisions[index] as GateDecision);
  }
}
