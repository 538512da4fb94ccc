/**
 * Turning an event into a job (behaviour §9.1), shared by run_event (management) and the run_event action (job-runner):
 * the job record is written to the active set first, then its dispatch message, with the job id as the message id, so
 * a crash between the two leaves a `ready` job the dispatchers' sweep re-queues, never a message without a job.
 */
import { createHash } from 'node:crypto';
import type { Producer } from './queues.js';
import { generateId } from './ids.js';
import { type JobRecord, saveActiveJob } from './live-jobs.js';
import type { RedisWiring } from './redis.js';

type Fields = Record<string, unknown>;

/** Event-only fields a job never carries, and launch fields the runner derives from the plugin (data-structures §7). */
const STRIPPED = [
  'title',
  'enabled',
  'triggers',
  'created',
  'modified',
  'revision',
  'username',
  'update_state',
  'sort_order',
  'command',
  'script',
  'uid',
  'gid',
  'cwd',
  'env',
  'kill',
  'runner',
] as const;

export interface BuildJobOptions {
  event: Fields;
  category: Fields;
  plugin?: Fields;
  /** Overrides already checked by the caller (params merged, targets in scope). */
  overrides?: Fields;
  source: 'user' | 'key' | 'action' | 'scheduler' | 'magic' | 'workflow' | 'alert' | 'startup' | 'plugin';
  username?: string;
  parent?: Fields;
}

const withSource = (entries: unknown, source: string): Fields[] =>
  (Array.isArray(entries) ? (entries as Fields[]) : []).filter((e) => e && e.enabled === true).map((e) => ({ ...e, source }));

/** A new job record in state `ready`, from the event, its category and plugin, and the run's overrides. */
export function buildJob({ event, category, plugin, overrides = {}, source, username, parent }: BuildJobOptions): JobRecord {
  const job: Fields = { ...event, ...overrides };
  for (const key of STRIPPED) delete job[key];
  const now = Date.now() / 1000;
  const test = job.test === true;
  const limits = Array.isArray(job.limits) ? [...(job.limits as Fields[])] : [];
  const actions = Array.isArray(job.actions) ? [...(job.actions as Fields[])] : [];
  if (!test || job.test_limits === true) limits.push(...withSource(category.limits, 'category'));
  if (!test || job.test_actions === true) actions.push(...withSource(category.actions, 'category'));
  return {
    ...job,
    id: generateId('j'),
    event: String(event.id),
    category: String(event.category),
    limits,
    actions,
    tags: Array.isArray(job.tags) ? job.tags : [],
    params: job.params && typeof job.params === 'object' ? job.params : {},
    source,
    ...(username ? { username } : {}),
    ...(parent ? { parent } : {}),
    ...(plugin ? { kill: plugin.kill ?? 'parent' } : {}),
    state: 'ready',
    started: now,
    now: typeof job.now === 'number' ? job.now : Math.floor(now),
    updated: now,
    log_file_size: 0,
  };
}

/** Writes the job, then its dispatch message (idempotent on the job id). */
export async function enqueueJob(redis: RedisWiring, dispatch: Producer<{ job_id: string }>, job: JobRecord): Promise<void> {
  await saveActiveJob(redis, job);
  await dispatch.add({ job_id: job.id }, { jobId: job.id, removeOnComplete: true, removeOnFail: { count: 1000 }, attempts: 3 });
}

/** The log token of a job (behaviour §11): url-safe base64 of the first 16 bytes of SHA-256("download" + id + key). */
export function jobLogToken(secretKey: string, jobId: string): string {
  return createHash('sha256').update(`download${jobId}${secretKey}`).digest().subarray(0, 16).toString('base64url');
}

/** Normalises a completion code (data-structures §7): 0, or a lowercased word string. */
export function normaliseCode(code: unknown): number | string {
  if (code === 0 || code === false || code === undefined || code === null || code === '' || code === '0') return 0;
  if (typeof code === 'number') return Number.isFinite(code) ? code : 'unknown';
  if (code === true) return 1;
  if (typeof code === 'string') return code.toLowerCase().replace(/\W+/g, '_');
  return 'unknown';
}
