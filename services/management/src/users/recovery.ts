/**
 * Password recovery (api-sections §8b): a one-use 64-hex key, stored hashed, valid until the next local midnight,
 * at most `MAX_FORGOT_PASSWORDS_PER_HOUR` per user and hour. The key only ever leaves in the e-mail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ServiceContext, safeEqual, userKey } from '@shallot/core';

/** @default 3 (behaviour §14 `max_forgot_passwords_per_hour`) */
export const MAX_FORGOT_PASSWORDS_PER_HOUR = 3;
export const RECOVERY_KEYS = 'password_resets';

const hash = (key: string): string => createHash('sha256').update(key).digest('hex');

function nextMidnight(now = new Date()): number {
  const midnight = new Date(now);
  midnight.setHours(24, 0, 0, 0);
  return Math.floor(midnight.getTime() / 1000);
}

/** Whether another recovery e-mail may go out this hour for this user (counts the attempt). */
export async function allowRecovery(ctx: ServiceContext, username: string): Promise<boolean> {
  const key = `recovery:count:${userKey(username)}:${Math.floor(Date.now() / 3_600_000)}`;
  const [[, count]] = (await ctx.redis.client.multi().incr(key).expire(key, 3600).exec()) as [[Error | null, number]];
  return count <= MAX_FORGOT_PASSWORDS_PER_HOUR;
}

/** Creates (or replaces) the user's recovery key; answers the plain key for the e-mail. */
export async function issueRecoveryKey(ctx: ServiceContext, username: string): Promise<{ key: string; expires: number }> {
  const key = randomBytes(32).toString('hex');
  const expires = nextMidnight();
  const id = userKey(username);
  await ctx.store.collections.delete(RECOVERY_KEYS, id);
  await ctx.store.collections.create(RECOVERY_KEYS, { id, key_hash: hash(key), expires });
  return { key, expires };
}

/** Checks and consumes a recovery key: true once, for the right user, before it expires. */
export async function consumeRecoveryKey(ctx: ServiceContext, username: string, key: string): Promise<boolean> {
  const id = userKey(username);
  if (id === '') return false;
  const stored = await ctx.store.collections.get(RECOVERY_KEYS, id);
  if (!stored || typeof stored.key_hash !== 'string') return false;
  const valid = safeEqual(stored.key_hash, hash(key)) && typeof stored.expires === 'number' && stored.expires > Date.now() / 1000;
  if (!valid) return false;
  // Whoever deletes it uses it: two concurrent resets cannot both succeed.
  return ctx.store.collections.delete(RECOVERY_KEYS, id);
}

export async function dropRecoveryKey(ctx: ServiceContext, username: string): Promise<void> {
  await ctx.store.collections.delete(RECOVERY_KEYS, userKey(username));
}
