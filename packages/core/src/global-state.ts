/**
 * The global state (api-sections §10 get/update_global_state): small runtime settings kept in Redis as dot-path keys
 * with JSON values (`scheduler.enabled`), plus what the scheduler reports about itself. The job-runner's scheduler
 * and the management API read and write the same keys through this module.
 */
import type { RedisWiring } from './redis.js';

type Redis = RedisWiring['client'];

/** Redis keys (under the install's prefix). */
export const STATE_KEYS = {
  /** Hash: dot path → JSON value. */
  global: 'state',
  schedulerLease: 'scheduler:lease',
  schedulerLeader: 'scheduler:leader',
  /** The last minute the scheduler evaluated for every event. */
  schedulerMinute: 'scheduler:minute',
  /** Hash: event id → catch-up cursor (epoch seconds). */
  schedulerCursors: 'scheduler:cursors',
  /** Hash: claimed launches not yet handed on. */
  schedulerPending: 'scheduler:pending',
  /** Hash: event id → claim generation, bumped by the time machine so replayed minutes are new claims. */
  schedulerGenerations: 'scheduler:gen',
} as const;

/**
 * The time machine: sets an event's catch-up cursor (the last minute considered done), so the scheduler replays
 * every minute after it. Minutes launched before are launched again: the event's claim generation moves on.
 * Here rather than in the job-runner so management's update_event can call it.
 */
export async function setEventCursor(redis: Redis, eventId: string, cursor: number): Promise<void> {
  const minute = Math.floor(cursor / 60) * 60;
  await redis
    .multi()
    .hset(STATE_KEYS.schedulerCursors, eventId, String(minute))
    .hincrby(STATE_KEYS.schedulerGenerations, eventId, 1)
    .exec();
}

export const SCHEDULER_ENABLED = 'scheduler.enabled';

const PROTOTYPE_WORDS = new Set(['__proto__', 'prototype', 'constructor']);

/** A key the spec refuses ("Naughty key detected"): empty segments, prototype words or a `0` segment. */
export function isNaughtyStateKey(key: string): boolean {
  const segments = key.split('.');
  return key.length === 0 || key.length > 200 || segments.some((s) => s === '' || s === '0' || PROTOTYPE_WORDS.has(s));
}

/** The scheduler runs unless it was paused; a fresh install has it on. */
export async function schedulerEnabled(redis: Redis): Promise<boolean> {
  const raw = await redis.hget(STATE_KEYS.global, SCHEDULER_ENABLED);
  return raw === null ? true : JSON.parse(raw) === true;
}

/** Writes dot-path keys (callers check them with isNaughtyStateKey first). */
export async function writeGlobalState(redis: Redis, entries: Record<string, unknown>): Promise<void> {
  const flat: string[] = [];
  for (const [key, value] of Object.entries(entries)) flat.push(key, JSON.stringify(value ?? null));
  if (flat.length > 0) await redis.hset(STATE_KEYS.global, ...flat);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments.at(-1) as string] = value;
}

/**
 * The whole state as one object: the stored keys nested by their dots, `scheduler.enabled` (true unless paused),
 * the scheduler's leader, last minute and pending launches, and each catch-up event's `events.<id>.cursor`.
 */
export async function readGlobalState(redis: Redis): Promise<Record<string, unknown>> {
  const [stored, lease, leader, minute, pending, cursors] = await Promise.all([
    redis.hgetall(STATE_KEYS.global),
    redis.get(STATE_KEYS.schedulerLease),
    redis.hgetall(STATE_KEYS.schedulerLeader),
    redis.get(STATE_KEYS.schedulerMinute),
    redis.hlen(STATE_KEYS.schedulerPending),
    redis.hgetall(STATE_KEYS.schedulerCursors),
  ]);
  const state: Record<string, unknown> = Object.create(null);
  state.scheduler = { enabled: true };
  for (const [key, raw] of Object.entries(stored)) {
    if (isNaughtyStateKey(key)) continue;
    try {
      setPath(state, key, JSON.parse(raw));
    } catch {
      // A value written by hand that is not JSON is shown as it is.
      setPath(state, key, raw);
    }
  }
  for (const [event, cursor] of Object.entries(cursors)) {
    if (!isNaughtyStateKey(event)) setPath(state, `events.${event}.cursor`, Number(cursor));
  }
  const scheduler = state.scheduler as Record<string, unknown>;
  scheduler.leader =
    lease && leader.instance ? { instance: leader.instance, fence: Number(leader.fence), since: Number(leader.since) } : null;
  scheduler.minute = minute ? Number(minute) : null;
  scheduler.pending = pending;
  return { ...state };
}
