/** User records: loading, the public view, normalisation of what administrators and users may set (api-sections §8). */
import { Errors, type ServiceContext, USERS, effectivePermissions, publicUser, userKey } from '@shallot/core';
import { type PublicUser, USER_ADMIN_KEYS, USER_PREFERENCE_KEYS } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { privilegeGrants } from '../crud/index.js';

type Fields = Record<string, unknown>;

/** Fields only the server writes; never returned, never accepted from a client. */
const INTERNAL_FIELDS = ['password', 'salt', 'fl_date_code', 'fl_count', 'fp_date_code', 'fp_count'] as const;

const TAG = /<[^>]*>/g;

/** A user by username (any spelling that normalises to the same key), or undefined. */
export async function findUser(ctx: ServiceContext, username: string): Promise<CollectionRecord | undefined> {
  const key = userKey(username);
  return key === '' ? undefined : ctx.store.collections.get(USERS, key);
}

/** The user as every answer shows it: no password hash, salt or throttle counters. */
export function publicView(user: CollectionRecord | Fields): PublicUser {
  const shown = publicUser(user as CollectionRecord) as Fields;
  for (const field of INTERNAL_FIELDS) delete shown[field];
  return shown as PublicUser;
}

/** The given keys of `params` that appear in `allowed`, HTML stripped from the name and e-mail. */
export function pick(params: Fields, allowed: readonly string[]): Fields {
  const out: Fields = {};
  for (const key of allowed) {
    const value = params[key];
    if (value === undefined) continue;
    out[key] = (key === 'full_name' || key === 'email') && typeof value === 'string' ? value.replace(TAG, '').trim() : value;
  }
  return out;
}

/** Self-service fields only (user_settings, update): profile and preferences. */
export const preferencesOf = (params: Fields): Fields => pick(params, USER_PREFERENCE_KEYS);

/** Preferences plus grants, restrictions and state (admin_create, admin_update), normalised. */
export function adminFieldsOf(params: Fields): Fields {
  const fields = pick(params, [...USER_PREFERENCE_KEYS, ...USER_ADMIN_KEYS]);
  if ('privileges' in fields) fields.privileges = privilegeGrants(fields.privileges);
  if ('active' in fields) fields.active = fields.active === true || fields.active === 1;
  return fields;
}

/** An administrator (directly or through an enabled role) is never restricted: stored lists forced to [] (behaviour §3). */
export async function withAdminRestrictionsCleared(ctx: ServiceContext, user: Fields): Promise<Fields> {
  const { privileges } = await effectivePermissions(ctx.store, user);
  return privileges.admin ? { ...user, categories: [], groups: [] } : user;
}

export function requireUser(user: CollectionRecord | undefined, username: string): CollectionRecord {
  if (!user) throw new Errors.user(`User not found: ${username}`);
  return user;
}
