/**
 * Jobs while they live (spec/data-structures.md §7, behaviour §9): the active set in Redis, shared by management
 * (which creates and controls jobs) and the job-runners (which run them), and the `jobs` index completed jobs are
 * stored in. One owner writes an active job at a time: management until it is queued, then its runner; control
 * requests from management (abort) are flags the runner reads on its tick, so none is lost to a missed message.
 */
import type { IndexSpec } from '@shallot/store';
import type { RedisWiring } from './redis.js';

/** A job as stored: the spec's fields, read loosely. */
export type JobRecord = { id: string } & Record<string, unknown>;

/** Completed jobs (DB index `jobs`), unscoped. */
export const JOBS_INDEX: IndexSpec = {
  name: 'jobs',
  fields: {
    event: 'keyword',
    category: 'keyword',
    plugin: 'keyword',
    server: 'keyword',
    groups: 'keyword',
    source: 'keyword',
    username: 'keyword',
    code: 'keyword',
    tags: 'keyword',
    state: 'keyword',
    started: 'number',
    completed: 'number',
    elapsed: 'number',
    description: 'text',
  },
  hot: ['event', 'completed'],
};
export const JOBS_SCOPE = '';

const ACTIVE = 'jobs:active';
export const jobKey = (id: string) => `job:${id}`;
export const jobAbortKey = (id: string) => `job:${id}:abort`;
export const jobLogStreamKey = (id: string) => `joblog:${id}`;
export const eventStateKey = (id: string) => `event_state:${id}`;

/** Abort flags and live logs outlive their job by this long, then expire. */
const FLAG_TTL_SECONDS = 3600;

/** Writes (or replaces) an active job and keeps it in the active set. */
export async function saveActiveJob(redis: RedisWiring, job: JobRecord): Promise<void> {
  const started = typeof job.started === 'number' ? job.started : Date.now() / 1000;
  await redis.client.multi().set(jobKey(job.id), JSON.stringify(job)).zadd(ACTIVE, started, job.id).exec();
}

export async function getActiveJob(redis: RedisWiring, id: string): Promise<JobRecord | undefined> {
  const raw = await redis.client.get(jobKey(id));
  return raw ? (JSON.parse(raw) as JobRecord) : undefined;
}

/** Every active job, oldest first. */
export async function listActiveJobs(redis: RedisWiring): Promise<JobRecord[]> {
  const ids = await redis.client.zrange(ACTIVE, 0, -1);
  if (ids.length === 0) return [];
  const values = await redis.client.mget(ids.map(jobKey));
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as JobRecord);
}

/** Takes a job out of the active set (after its final record is stored). */
export async function removeActiveJob(redis: RedisWiring, id: string): Promise<void> {
  await redis.client.multi().del(jobKey(id)).zrem(ACTIVE, id).del(jobAbortKey(id)).exec();
}

/** Asks the job's owner to abort it; the owner reads the flag within a second. */
export async function requestAbort(redis: RedisWiring, id: string, reason: string): Promise<void> {
  await redis.client.set(jobAbortKey(id), reason, 'EX', FLAG_TTL_SECONDS);
}

export async function abortRequested(redis: RedisWiring, id: string): Promise<string | undefined> {
  return (await redis.client.get(jobAbortKey(id))) ?? undefined;
}

/** Per-event runtime state (`state.events.<id>`): cursor, robin, last_job, … as JSON values. */
export async function readEventState(redis: RedisWiring, id: string): Promise<Record<string, unknown>> {
  const raw = await redis.client.hgetall(eventStateKey(id));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) out[key] = JSON.parse(value);
  return out;
}

export async function writeEventState(redis: RedisWiring, id: string, values: Record<string, unknown>): Promise<void> {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  await redis.client.hset(eventStateKey(id), Object.fromEntries(entries.map(([k, v]) => [k, JSON.stringify(v)])));
}

export async function deleteEventState(redis: RedisWiring, id: string): Promise<void> {
  await redis.client.del(eventStateKey(id));
}

export const LIVE_LOG_TTL_SECONDS = FLAG_TTL_SECONDS;

/** Key of a completed job's compressed log (behaviour §12). */
export const jobLogBlobKey = (id: string) => `logs/jobs/${id}/log.txt.gz`;
/** Users who asked for a completion e-mail (`job_toggle_notify_me`). */
export const jobNotifyKey = (id: string) => `job:${id}:notify`;
