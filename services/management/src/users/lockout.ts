/**
 * Failed-login lockout (api-sections §8b): more than `MAX_FAILED_LOGINS_PER_HOUR` failures within one clock hour
 * set `force_password_reset`; only a password reset (or an administrator) unlocks. Counted in Redis so concurrent
 * attempts cannot undercount.
 */
import { type ServiceContext, USERS, userKey } from '@shallot/core';

/** @default 5 (behaviour §14 `max_failed_logins_per_hour`) */
export const MAX_FAILED_LOGINS_PER_HOUR = 5;

const hourCode = (): number => Math.floor(Date.now() / 3_600_000);
const failKey = (username: string, hour: number) => `login:failed:${userKey(username)}:${hour}`;

/** Counts one failure; locks the account when the hour's count goes over the limit. Answers whether it is now locked. */
export async function recordFailedLogin(ctx: ServiceContext, username: string): Promise<boolean> {
  const hour = hourCode();
  const key = failKey(username, hour);
  const [[, count]] = (await ctx.redis.client.multi().incr(key).expire(key, 3600).exec()) as [[Error | null, number]];
  const fields: Record<string, unknown> = { fl_date_code: hour, fl_count: count };
  const locked = count > MAX_FAILED_LOGINS_PER_HOUR;
  if (locked) fields.force_password_reset = true;
  await ctx.store.collections.patchMany(USERS, [{ id: userKey(username), fields }]);
  return locked;
}

/** Clears the lockout and the counters (password reset, admin unlock, new password). */
export async function clearLockout(ctx: ServiceContext, username: string): Promise<void> {
  await ctx.redis.client.del(failKey(username, hourCode()));
}

/** Fields that unlock a user record (api-sections §8b `unlock`). */
export const UNLOCKED_FIELDS = { force_password_reset: false, fl_count: 0, fp_count: 0 } as const;
