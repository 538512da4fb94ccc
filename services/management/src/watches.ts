/**
 * Watches (data-structures §state `watches.groups.<id>`): the epoch at which a group watch ends. Kept in Redis with a
 * TTL equal to the duration, so an expired watch disappears without a cleanup job; the per-minute snapshot pipeline
 * reads it once server metrics are ingested.
 */
import type { ServiceContext } from '@shallot/core';

export const groupWatchKey = (groupId: string): string => `watches:groups:${groupId}`;

/** Starts (or replaces) a watch of `durationSeconds`; 0 cancels. Answers the end epoch, 0 when cancelled. */
export async function setGroupWatch(ctx: ServiceContext, groupId: string, durationSeconds: number): Promise<number> {
  if (durationSeconds <= 0) {
    await ctx.redis.client.del(groupWatchKey(groupId));
    return 0;
  }
  const end = Math.floor(Date.now() / 1000) + durationSeconds;
  await ctx.redis.client.set(groupWatchKey(groupId), String(end), 'EX', durationSeconds);
  return end;
}

/** The end epoch of the group's active watch, or undefined when none. */
export async function groupWatchEnd(ctx: ServiceContext, groupId: string): Promise<number | undefined> {
  const value = await ctx.redis.client.get(groupWatchKey(groupId));
  return value === null ? undefined : Number(value);
}
