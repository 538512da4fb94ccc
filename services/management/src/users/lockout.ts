/**
 * Failed-login lockout (api-sections §8b), hardened against denial of service (issue 8, finding 6).
 *
 * The spec's rule stays: more than `MAX_FAILED_LOGINS_PER_HOUR` failures within one clock hour lock the account.
 * What it locks is narrower and shorter:
 * - per (username, client address): failures from one address never lock the account for anyone else, so an
 *   anonymous stranger cannot lock an administrator out of their own machine;
 * - released by time: the lock lasts `SHALLOT_LOGIN_LOCKOUT_SECONDS` (an hour), or until a password reset or an administrator's unlock
 *   clears it. Failed logins no longer set `force_password_reset`; an administrator may still set it.
 * - unknown usernames are counted and locked the same way, and every answer is the same for them, so the lockout
 *   tells nothing about which accounts exist.
 * Counted in Redis so concurrent attempts cannot undercount; one hash of counters and one sorted set of locks per
 * username, so an unlock clears every address at once.
 */
import { type ServiceContext, USERS, userKey } from '@shallot/core';
import type { CollectionRecord } from '@shallot/store';

/** @default 5 (behaviour §14 `max_failed_logins_per_hour`) */
export const MAX_FAILED_LOGINS_PER_HOUR = 5;

const hourCode = (now: number): number => Math.floor(now / 3_600_000);
/** The counted name: the username's storage key; names without one share a bucket (they can never log in). */
const nameKey = (username: string): string => userKey(username) || '_';
const failKey = (username: string, hour: number) => `login:failed:${nameKey(username)}:${hour}`;
const lockKey = (username: string) => `login:locks:${nameKey(username)}`;

/** Whether logins as `username` from `address` are locked now. */
export async function isLockedOut(ctx: ServiceContext, username: string, address: string, now = Date.now()): Promise<boolean> {
  const until = await ctx.redis.client.zscore(lockKey(username), address);
  return until !== null && Number(until) > now;
}

/**
 * Counts one failure of `username` from `address` (known user or not); locks the pair when the hour's count goes
 * over the limit. Answers whether it is now locked. Known users get the spec's `fl_date_code`/`fl_count` (the
 * count of this address) on their record.
 */
export async function recordFailedLogin(
  ctx: ServiceContext,
  username: string,
  address: string,
  user: CollectionRecord | undefined,
  now = Date.now(),
): Promise<boolean> {
  const hour = hourCode(now);
  const key = failKey(username, hour);
  const [[, count]] = (await ctx.redis.client.multi().hincrby(key, address, 1).pexpire(key, 3_600_000).exec()) as [[Error | null, number]];
  const locked = count > MAX_FAILED_LOGINS_PER_HOUR;
  if (locked) {
    const locks = lockKey(username);
    const lockoutMs = ctx.config.loginLockoutSeconds * 1000;
    await ctx.redis.client
      .multi()
      .zadd(locks, now + lockoutMs, address)
      // Expired locks go, so the set holds only the addresses locked now.
      .zremrangebyscore(locks, '-inf', now)
      .pexpire(locks, lockoutMs)
      .exec();
  }
  if (user) await ctx.store.collections.patchMany(USERS, [{ id: user.id, fields: { fl_date_code: hour, fl_count: count } }]);
  return locked;
}

/** Clears the lockout and the counters of every address (password reset, admin unlock, new password, delete). */
export async function clearLockout(ctx: ServiceContext, username: string): Promise<void> {
  await ctx.redis.client.del(failKey(username, hourCode(Date.now())), lockKey(username));
}

/** Fields that unlock a user record (api-sections §8b `unlock`). */
export const UNLOCKED_FIELDS = { force_password_reset: false, fl_count: 0, fp_count: 0 } as const;

/**
 * Whether `user` is the only active administrator (by own privilege; a role may grant admin too, counted when
 * `isAdmin` says so). Such an account is never locked out entirely: `force_password_reset` does not refuse its
 * correct password, since nobody else could clear it.
 */
export async function isLastActiveAdmin(
  ctx: ServiceContext,
  user: CollectionRecord,
  isAdmin: (record: CollectionRecord) => Promise<boolean>,
): Promise<boolean> {
  if (user.active === false || user.active === 0 || !(await isAdmin(user))) return false;
  for (let offset = 0; ; offset += 500) {
    const { rows } = await ctx.store.collections.list(USERS, { offset, limit: 500, sort: [{ field: 'created', order: 'asc' }] });
    for (const other of rows) {
      if (other.id !== user.id && other.active !== false && other.active !== 0 && (await isAdmin(other))) return false;
    }
    if (rows.length < 500) return true;
  }
}
