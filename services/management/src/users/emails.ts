/**
 * E-mail addresses of accounts: one address per account (unique, compared trimmed and lower-case), and the split
 * between the address a user shows (`email`, self-service) and the one the task monitor derives their org from
 * (`verified_email`, set only by an administrator).
 *
 * Decision (issue 8, finding 1): there is no verification mail. An administrator confirms an address: admin_create
 * and an admin_update that sets `email` confirm the address they set, and `admin_update {verify_email: true}`
 * confirms the user's current one. A user changing their own address changes `email` only; their orgs stay those
 * of `verified_email` until an administrator confirms the new one.
 */
import { createHash } from 'node:crypto';
import { Errors, type ServiceContext, USERS, verifiedEmailOf } from '@shallot/core';
import { LEEK_APPLICATIONS } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { scanAll } from '../crud/index.js';

/** How long a claim on an address is held while its uniqueness is checked and the record written. */
const CLAIM_MS = 10_000;

/** The compared form of an address: trimmed, lower-case. */
export const normalizeEmail = (value: unknown): string => (typeof value === 'string' ? value.trim().toLowerCase() : '');

async function holders(ctx: ServiceContext, email: string): Promise<CollectionRecord[]> {
  const [shown, verified] = await Promise.all([
    ctx.store.collections.list(USERS, { where: { email }, limit: 3 }),
    ctx.store.collections.list(USERS, { where: { verified_email: email }, limit: 3 }),
  ]);
  return [...shown.rows, ...verified.rows];
}

/**
 * Runs `write` while `email` is claimed for the account `ownerId`: refused with `user` when another account shows
 * or has verified the address. The Redis claim serialises two accounts racing for one address between the check
 * and the write. An empty address is never claimed.
 */
export async function withEmailClaim<T>(ctx: ServiceContext, ownerId: string, email: string, write: () => Promise<T>): Promise<T> {
  if (email === '') return write();
  const key = `email:claim:${createHash('sha256').update(email).digest('hex')}`;
  const claimed = await ctx.redis.client.set(key, ownerId, 'PX', CLAIM_MS, 'NX');
  if (claimed === null && (await ctx.redis.client.get(key)) !== ownerId) {
    throw new Errors.user('That e-mail address is being claimed by another account; try again');
  }
  try {
    if ((await holders(ctx, email)).some((user) => user.id !== ownerId)) {
      throw new Errors.user('That e-mail address is used by another account');
    }
    return await write();
  } finally {
    await ctx.redis.client.del(key);
  }
}

/**
 * Brings stored records to this model, once per record, on every start (idempotent):
 * - a user without `verified_email` gets their current address, normalised, as verified — unless another account
 *   has the same address: then none of them is verified (an administrator decides who owns it) and it is logged;
 * - an application whose `owner` or admin grant is an address (the old model) names the user who verified that
 *   address instead; an address no single user verified becomes `unclaimed:<address>`, which matches no caller.
 */
export async function migrateIdentities(ctx: ServiceContext, log: { warn(obj: object, msg: string): void }): Promise<void> {
  const users = await scanAll(ctx, USERS, false);
  const count = new Map<string, number>();
  for (const user of users) {
    const email = normalizeEmail(user.email);
    if (email !== '') count.set(email, (count.get(email) ?? 0) + 1);
  }
  const patches: Array<{ id: string; fields: Record<string, unknown> }> = [];
  // Records from the store may be frozen: the verified address of each user is kept here, not written onto them.
  const verifiedOf = new Map<string, string>();
  for (const user of users) {
    if (typeof user.verified_email === 'string') {
      verifiedOf.set(user.id, verifiedEmailOf(user));
      continue;
    }
    const email = normalizeEmail(user.email);
    const unique = email !== '' && count.get(email) === 1;
    if (email !== '' && !unique) log.warn({ username: user.username }, 'e-mail address shared by several accounts: left unverified');
    patches.push({ id: user.id, fields: { email, verified_email: unique ? email : '' } });
    verifiedOf.set(user.id, unique ? email : '');
  }
  if (patches.length > 0) await ctx.store.collections.patchMany(USERS, patches);

  const byVerified = new Map<string, string>();
  for (const user of users) {
    const verified = verifiedOf.get(user.id) ?? '';
    if (verified !== '') byVerified.set(verified, byVerified.has(verified) ? '' : user.id);
  }
  const idOf = (address: string): string => byVerified.get(normalizeEmail(address)) || `unclaimed:${normalizeEmail(address)}`;
  const apps = await scanAll(ctx, LEEK_APPLICATIONS, false);
  const appPatches: Array<{ id: string; fields: Record<string, unknown> }> = [];
  for (const app of apps) {
    const fields: Record<string, unknown> = {};
    if (typeof app.owner === 'string' && app.owner.includes('@') && !app.owner.startsWith('unclaimed:')) fields.owner = idOf(app.owner);
    const admins = Array.isArray(app.admins) ? (app.admins as Array<Record<string, unknown>>) : [];
    if (admins.some((a) => typeof a.user !== 'string')) {
      fields.admins = admins.map((a) =>
        typeof a.user === 'string' ? a : { user: idOf(String(a.email ?? '')), email: normalizeEmail(a.email), since: a.since },
      );
    }
    if (Object.keys(fields).length > 0) appPatches.push({ id: app.id, fields });
  }
  if (appPatches.length > 0) await ctx.store.collections.patchMany(LEEK_APPLICATIONS, appPatches);
}
