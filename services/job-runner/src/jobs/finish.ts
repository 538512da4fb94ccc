/**
 * Completing a job (behaviour §9.5): code normalised, log stored, retry launched when a retry limit allows, the
 * completion actions run, system tags added, the event's state and pending event update applied, the final record
 * inserted into the `jobs` index and the job taken out of the active set. Used by the runner (normal end, abort,
 * limits) and by the dispatcher (queue full, no servers, lost server).
 */
import {
  JOBS_INDEX,
  JOBS_SCOPE,
  type JobRecord,
  buildJob,
  enqueueJob,
  getActiveJob,
  jobNotifyKey,
  normaliseCode,
  readEventState,
  removeActiveJob,
  writeEventState,
} from '@shallot/core';
import { type ActionDeps, completionConditions, runActions } from '../actions/index.js';

export interface FinishOptions {
  code: unknown;
  description?: string;
  /** Fields from the log (`output`, `log_file_size`). */
  log?: { output?: string; log_file_size: number };
  /** An abort that may still be retried (limits, lost server, no servers). */
  retryAllowed?: boolean;
}

/** Fields that never reach the final record. */
const TRANSIENT = ['status', 'pid', 'secrets', 'procs', 'conns', 'instance', 'until', 'position'];

function retryLimit(job: JobRecord): Record<string, unknown> | undefined {
  const limits = Array.isArray(job.limits) ? (job.limits as Array<Record<string, unknown>>) : [];
  return limits.find((l) => l && l.type === 'retry' && l.enabled === true && Number(l.amount) > 0);
}

export async function finishJob(deps: ActionDeps, job: JobRecord, options: FinishOptions): Promise<JobRecord> {
  const { ctx, redis } = deps;
  // Finished elsewhere already (e.g. lost-server handling raced a late completion): one final record only.
  if (!(await getActiveJob(redis, job.id))) return job;
  const now = Date.now() / 1000;
  job.state = 'complete';
  job.completed = now;
  job.elapsed = Math.max(0, now - (typeof job.started === 'number' ? job.started : now));
  job.code = normaliseCode(options.code);
  if (options.description !== undefined) job.description = options.description;
  else if (job.code !== 0 && job.description === undefined) job.description = `Job failed with code ${String(job.code)}`;
  if (options.log) Object.assign(job, options.log);
  if (job.code !== 0 && !job.output && typeof job.description === 'string') job.output = `${job.description}\n`;

  // Retry (step 5): a failed job, not an explicit abort unless the abort allows it.
  const retry = retryLimit(job);
  const retryCount = Number(job.retry_count ?? 0);
  if (job.code !== 0 && !job.retried && (job.code !== 'abort' || options.retryAllowed) && retry && retryCount < Number(retry.amount)) {
    const event = await ctx.store.collections.get('events', String(job.event));
    const category = await ctx.store.collections.get('categories', String(job.category));
    if (event && category) {
      const delay = Number(retry.duration ?? 0);
      const next = buildJob({
        event: { ...event, params: job.params, targets: job.targets, algo: job.algo, actions: [], limits: [] },
        category: { limits: [], actions: [] },
        overrides: {
          actions: ((job.actions as Array<Record<string, unknown>>) ?? []).map(
            ({ code: _c, description: _d, details: _x, date: _t, elapsed_ms: _e, ...a }) => a,
          ),
          limits: job.limits,
          input: job.input,
          tags: ((job.tags as string[]) ?? []).filter((t) => !t.startsWith('_')),
          ...(job.test ? { test: true } : {}),
        },
        source: (job.source as 'user') ?? 'user',
        ...(typeof job.username === 'string' ? { username: job.username } : {}),
      });
      next.retry_count = retryCount + 1;
      next.retry_prev = job.id;
      if (delay > 0) {
        next.state = 'retry_delay';
        next.until = now + delay;
      }
      await enqueueJob(redis, deps.dispatch, next);
      job.retried = true;
      job.jobs = [...((job.jobs as unknown[]) ?? []), { id: next.id, reason: 'retry' }];
    }
  }

  if (!job.retried && (!job.test || job.test_actions)) await runActions(job, completionConditions(job), deps);

  const tags = ((job.tags as string[]) ?? []).filter((t) => !t.startsWith('_'));
  tags.push(job.code === 0 ? '_success' : '_error', job.retried ? '_retried' : '_last');
  if (job.test) tags.push('_test');
  if (
    (Array.isArray(job.files) && job.files.length > 0) ||
    (Array.isArray((job.input as { files?: unknown[] })?.files) && (job.input as { files: unknown[] }).files.length > 0)
  )
    tags.push('_files');
  job.tags = [...new Set(tags)];
  for (const key of TRANSIENT) delete job[key];
  job.final = true;

  const event = await ctx.store.collections.get('events', String(job.event));
  if (event) {
    job.event_title = event.title;
    job.event_revision = event.revision;
    if (!job.retried) {
      const state = await readEventState(redis, String(job.event));
      await writeEventState(redis, String(job.event), {
        last_job: job.id,
        last_code: job.code,
        last_completed: now,
        total_elapsed: Number(state.total_elapsed ?? 0) + Number(job.elapsed),
        total_count: Number(state.total_count ?? 0) + 1,
      });
    }
    if (job.delete_event === true) await ctx.store.collections.delete('events', event.id);
    else if (job.update_event && typeof job.update_event === 'object') {
      await ctx.store.collections.update('events', event.id, job.update_event as Record<string, unknown>).catch(() => undefined);
    }
  }
  const notify = await redis.client.smembers(jobNotifyKey(job.id));
  if (notify.length > 0) job.notify_users = notify;
  if (job.ephemeral !== true || job.code !== 0) await ctx.store.indexes.upsert(JOBS_INDEX.name, JOBS_SCOPE, job);
  await removeActiveJob(redis, job.id);
  await redis.client.del(jobNotifyKey(job.id));
  return job;
}
