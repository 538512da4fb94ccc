/**
 * The scheduler's state in Redis: who leads (a lease with a fencing token), how far it got, per-event catch-up
 * cursors and nth counters, claimed slots waiting to be handed on, and the global pause switch
 * (`scheduler.enabled`, as xyOps keeps it in its global state).
 */
import { type RedisWiring, STATE_KEYS, schedulerEnabled, setEventCursor, writeGlobalState } from '@shallot/core';

type Redis = RedisWiring['client'];

export { schedulerEnabled, setEventCursor };

export const KEYS = {
  lease: STATE_KEYS.schedulerLease,
  fence: 'scheduler:fence',
  leader: STATE_KEYS.schedulerLeader,
  /** The last minute evaluated for every event (catch-up events have their own cursor). */
  minute: STATE_KEYS.schedulerMinute,
  cursors: STATE_KEYS.schedulerCursors,
  nth: 'scheduler:nth',
  /** Per event, bumped by the time machine: replays of minutes claimed before are new claims. */
  generations: STATE_KEYS.schedulerGenerations,
  /** Claimed launches not yet handed on: field = launch key, value = {at, payload}. */
  pending: STATE_KEYS.schedulerPending,
  /** Every claim, once (capped): the audit of what the scheduler decided to launch. */
  launches: 'scheduler:launches',
  /** `scheduler:claim:<event>:<generation>:<minute>`: one claim per event and minute. */
  claimPrefix: 'scheduler:claim:',
} as const;

/** Pauses or resumes the scheduler, as update_global_state `{"scheduler.enabled": …}` does. */
export async function setSchedulerEnabled(redis: Redis, enabled: boolean): Promise<void> {
  await writeGlobalState(redis, { 'scheduler.enabled': enabled });
}

export async function eventCursor(redis: Redis, eventId: string): Promise<number | undefined> {
  const raw = await redis.hget(KEYS.cursors, eventId);
  return raw === null ? undefined : Number(raw);
}

export interface SchedulerStatus {
  enabled: boolean;
  /** The instance holding the lease, if any. */
  leader?: { instance: string; fence: number; since: number };
  /** The last minute evaluated (epoch seconds). */
  minute?: number;
  /** Launches claimed and not yet handed on. */
  pending: number;
}

export async function schedulerStatus(redis: Redis): Promise<SchedulerStatus> {
  const [enabled, lease, leader, minute, pending] = await Promise.all([
    schedulerEnabled(redis),
    redis.get(KEYS.lease),
    redis.hgetall(KEYS.leader),
    redis.get(KEYS.minute),
    redis.hlen(KEYS.pending),
  ]);
  return {
    enabled,
    ...(lease && leader.instance
      ? { leader: { instance: leader.instance, fence: Number(leader.fence), since: Number(leader.since) } }
      : {}),
    ...(minute ? { minute: Number(minute) } : {}),
    pending,
  };
}

/** Takes the lease when free, renews it when ours; answers the lease value (`instance|fence`) or null. */
export const LEASE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and current == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return current
end
if current then return false end
local fence = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. '|' .. fence
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'instance', ARGV[1], 'fence', fence, 'since', ARGV[4])
return value
`;

export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`;

/**
 * Claims launches, fenced: nothing happens unless the caller still holds the lease. Per group (one event, one
 * minute): SET NX of the claim key; then the nth counter; then the launches go to the pending hash and the audit
 * stream; the catch-up cursor moves to the minute in the same step, so a crash never loses or repeats a minute.
 * ARGV: lease value, claim key prefix (with the Redis prefix), claim TTL (s), group count, then per group
 * event, claim suffix, cursor ('' for none), every (0 for none), slot count, then (key, value) per slot.
 * Answers -1 when the lease is lost, else one code per group: 1 claimed, 2 skipped by nth, 0 claimed before.
 */
export const CLAIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local i = 5
local out = {}
for g = 1, tonumber(ARGV[4]) do
  local event = ARGV[i]
  local claim = ARGV[i + 1]
  local cursor = ARGV[i + 2]
  local every = tonumber(ARGV[i + 3])
  local n = tonumber(ARGV[i + 4])
  i = i + 5
  local result = 0
  if redis.call('SET', ARGV[2] .. claim, '1', 'NX', 'EX', ARGV[3]) then
    local go = true
    if every > 0 then
      local count = tonumber(redis.call('HGET', KEYS[3], event) or '0') - 1
      if count <= 0 then count = every else go = false end
      redis.call('HSET', KEYS[3], event, count)
    end
    if go then
      for s = 0, n - 1 do
        redis.call('HSET', KEYS[4], ARGV[i + 2 * s], ARGV[i + 2 * s + 1])
        redis.call('XADD', KEYS[5], 'MAXLEN', '~', '100000', '*', 'key', ARGV[i + 2 * s])
      end
      result = 1
    else
      result = 2
    end
  end
  i = i + 2 * n
  if cursor ~= '' then
    local stored = tonumber(redis.call('HGET', KEYS[2], event) or '0')
    if tonumber(cursor) > stored then redis.call('HSET', KEYS[2], event, cursor) end
  end
  out[g] = result
end
return out
`;

/** Moves the catch-up cursors of events that matched nothing, and then the global minute mark, fenced. */
export const ADVANCE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
for i = 3, #ARGV, 2 do
  local stored = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > stored then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
local mark = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(ARGV[2]) > mark then redis.call('SET', KEYS[3], ARGV[2]) end
return 1
`;
