/**
 * Running a job on this server (behaviour §9.2 starting → active → complete): the run message names a job the
 * dispatcher gave this server; the plugin runs with the job's secrets, its output goes to the live log, protocol
 * updates are merged into the job, and a one-second tick saves progress, reads abort requests and applies the
 * resource limits. A message for a job that is not `starting` here (a redelivery after a crash) is ignored: the
 * dispatcher's sweep has recorded that job as lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BlobStore, type JobRecord, abortRequested, getActiveJob, saveActiveJob, sendWebHook } from '@shallot/core';
import type { RunPayload } from '@shallot/schemas';
import type { FastifyBaseLogger } from 'fastify';
import { type ActionDeps, runActions } from '../actions/index.js';
import { jobHookData } from '../actions/web-hook.js';
import { exceededLimit, newTracker } from '../limits/check.js';
import { type GroupSample, cpuPercent, sampleGroup } from '../limits/proc-usage.js';
import { LiveLog } from '../logs/live-log.js';
import type { JobPlugin, PluginResult } from '../plugins/types.js';
import { finishJob } from './finish.js';
import { jobSecrets } from './secrets.js';

export const TICK_MS = 1000;
/** Fields the plugin protocol may not overwrite on the live record. */
const PROTECTED = new Set(['id', 'state', 'server', 'event', 'started', 'updated', 'instance', 'limits', 'actions', 'tags']);

export interface ExecutorOptions {
  serverId: string;
  instance: () => string;
  deps: ActionDeps;
  blobs: BlobStore;
  plugins: ReadonlyMap<string, JobPlugin>;
  log: FastifyBaseLogger;
}

export function createExecutor(options: ExecutorOptions) {
  const { deps, serverId } = options;
  const { redis, ctx } = deps;
  const running = new Map<string, AbortController>();

  async function run(payload: RunPayload): Promise<void> {
    const job = await getActiveJob(redis, payload.job_id);
    if (job?.state !== 'starting' || job.server !== serverId) return;
    const abort = await abortRequested(redis, job.id);
    if (abort) return void (await finishJob(deps, job, { code: 'abort', description: abort }));

    // Start actions (behaviour §10) before the job becomes active.
    if (!job.test || job.test_actions) await runActions(job, ['start'], deps);
    const now = Date.now() / 1000;
    Object.assign(job, { state: 'active', started: now, updated: now, progress: 0, instance: options.instance() });
    await saveActiveJob(redis, job);

    const pluginDef = job.plugin ? await ctx.store.collections.get('plugins', String(job.plugin)) : undefined;
    const plugin = pluginDef ? options.plugins.get(String(pluginDef.command)) : undefined;
    if (!pluginDef || !plugin) {
      const what = pluginDef ? `command ${String(pluginDef.command)}` : `plugin ${String(job.plugin)}`;
      return void (await finishJob(deps, job, { code: 'error', description: `This server cannot run ${what}.` }));
    }

    const secrets = await jobSecrets(ctx, job);
    const tempDir = await mkdtemp(join(tmpdir(), `shallot-job-${job.id}-`));
    const log = await LiveLog.open(redis, job.id, join(resolve(ctx.config.dataDir), 'jobs', `${job.id}.log`), Object.values(secrets));
    const controller = new AbortController();
    running.set(job.id, controller);
    let abortReason: { description: string; retryAllowed: boolean } | undefined;
    const stop = (description: string, retryAllowed: boolean) => {
      if (controller.signal.aborted) return;
      abortReason = { description, retryAllowed };
      controller.abort();
    };

    const tracker = newTracker();
    let lastSample: GroupSample | undefined;
    const tick = async () => {
      const requested = await abortRequested(redis, job.id);
      if (requested) stop(requested, false);
      job.log_file_size = log.size;
      job.updated = Date.now() / 1000;
      const usage: { cpu?: number; mem?: number } = {};
      if (typeof job.pid === 'number') {
        const sample = await sampleGroup(job.pid);
        if (sample) {
          usage.mem = sample.rss;
          if (lastSample) usage.cpu = cpuPercent(lastSample, sample);
          lastSample = sample;
          const stat = (key: 'cpu' | 'mem', value: number | undefined) => {
            if (value === undefined) return;
            const s = (job[key] as { min: number; max: number; total: number; count: number; current: number } | undefined) ?? {
              min: value,
              max: value,
              total: 0,
              count: 0,
              current: value,
            };
            job[key] = {
              min: Math.min(s.min, value),
              max: Math.max(s.max, value),
              total: s.total + value,
              count: s.count + 1,
              current: value,
            };
          };
          stat('cpu', usage.cpu);
          stat('mem', usage.mem);
        }
      }
      const exceeded = exceededLimit(job, job.updated as number, usage, tracker);
      if (exceeded) await applyLimit(job, exceeded.limit, exceeded.message, () => stop(exceeded.message, true));
      if (!controller.signal.aborted) await saveActiveJob(redis, job);
    };
    let ticking: Promise<void> | undefined;
    const timer = setInterval(() => {
      ticking ??= tick()
        .catch((err) => options.log.warn({ err, job: job.id }, 'job tick failed'))
        .finally(() => {
          ticking = undefined;
        });
    }, TICK_MS);

    let result: PluginResult;
    try {
      result = await plugin.run({
        job,
        plugin: pluginDef,
        secrets,
        tempDir,
        signal: controller.signal,
        log: (text) => log.append(text),
        update: (fields) => {
          for (const [key, value] of Object.entries(fields)) if (!PROTECTED.has(key)) job[key] = value;
        },
      });
    } catch (error) {
      result = { code: 'error', description: `Plugin failed: ${(error as Error).message}` };
    } finally {
      clearInterval(timer);
      await ticking;
      running.delete(job.id);
    }
    await rm(tempDir, { recursive: true, force: true });
    for (const [key, value] of Object.entries(result.fields ?? {})) if (!PROTECTED.has(key)) job[key] = value;
    job.state = 'finishing';
    const logFields = await log.finish(options.blobs);
    if (abortReason)
      await finishJob(deps, job, {
        code: 'abort',
        description: abortReason.description,
        log: logFields,
        retryAllowed: abortReason.retryAllowed,
      });
    else
      await finishJob(deps, job, {
        code: result.code,
        ...(result.description !== undefined ? { description: result.description } : {}),
        log: logFields,
      });
  }

  /** A limit fired (behaviour §9.4): note it on the job, add its tags, fire its web hook, abort when asked. */
  async function applyLimit(job: JobRecord, limit: Record<string, unknown>, message: string, abort: () => void) {
    Object.assign(limit, { date: Date.now() / 1000, msg: message });
    if (Array.isArray(limit.tags)) job.tags = [...new Set([...((job.tags as string[]) ?? []), ...(limit.tags as string[])])];
    if (typeof limit.web_hook === 'string' && limit.web_hook) {
      const hook = await ctx.store.collections.get('web_hooks', limit.web_hook);
      if (hook) {
        const text = limit.abort ? `${message} (Job aborted)` : message;
        const outcome = await sendWebHook(hook as never, jobHookData(job, 'limit', text), { guard: deps.guard, fallback: 'N/A' });
        Object.assign(limit, { code: outcome.code, description: outcome.description });
      }
    }
    // A time limit ends the job unless it says `abort: false`; the others only when `abort` is set.
    if (limit.abort === true || (limit.type === 'time' && limit.abort !== false)) abort();
  }

  return {
    run,
    /** Aborts every running job (shutdown). */
    abortAll(reason: string) {
      for (const [id, controller] of running) {
        options.log.warn({ job: id }, reason);
        controller.abort();
      }
    },
    get active() {
      return running.size;
    },
  };
}
