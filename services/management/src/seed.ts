/** First-run records: the admin user and the default definitions of behaviour §14, each created once. */
import { randomBytes } from 'node:crypto';
import { type ServiceContext, USERS, hashPassword, userKey } from '@shallot/core';
import { type Store, StoreError } from '@shallot/store';
import { recordSystemActivity } from './activity.js';
import { SEED_DATA } from './seed-data.js';

export const ADMIN_USERNAME = 'admin';

export interface AdminSeed {
  username: string;
  /** Set only when this call created the admin with a generated password, so it can be printed once. */
  generatedPassword?: string;
  created: boolean;
}

/** Creates the admin user unless it exists; the password is SHALLOT_ADMIN_PASSWORD or a random one. */
export async function seedAdmin(store: Store, configuredPassword: string): Promise<AdminSeed> {
  const id = userKey(ADMIN_USERNAME);
  if (await store.collections.get(USERS, id)) return { username: ADMIN_USERNAME, created: false };
  const password = configuredPassword || randomBytes(12).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  try {
    await store.collections.create(USERS, {
      id,
      username: ADMIN_USERNAME,
      full_name: 'Administrator',
      email: 'admin@localhost',
      verified_email: 'admin@localhost',
      active: true,
      password: await hashPassword(password),
      privileges: { admin: true },
      // A generated password is meant to be replaced: the UI prompts for a new one (behaviour §14).
      force_password_change: !configuredPassword,
      roles: [],
      categories: [],
      groups: [],
      created: now,
      modified: now,
    });
  } catch (error) {
    // Another process seeded it between our read and write.
    if (error instanceof StoreError && error.kind === 'conflict') return { username: ADMIN_USERNAME, created: false };
    throw error;
  }
  return configuredPassword
    ? { username: ADMIN_USERNAME, created: true }
    : { username: ADMIN_USERNAME, created: true, generatedPassword: password };
}

/** Marks that the default definitions were seeded: records an administrator deletes later stay deleted. */
const SEED_MARKER = { collection: 'system', id: 'seed_defaults' } as const;
const SEED_VERSION = 1;

/**
 * Creates the default definitions (roles, group, plugins, category, channel, web hook, tags, monitors, alerts) on the
 * first start; later starts do nothing. Safe when several processes start at once: existing ids are skipped.
 * Answers how many records it created.
 */
export async function seedDefaults(ctx: ServiceContext): Promise<number> {
  if (await ctx.store.collections.get(SEED_MARKER.collection, SEED_MARKER.id)) return 0;
  let created = 0;
  for (const { collection, type, records } of SEED_DATA) {
    for (const record of records) {
      if (await ctx.store.collections.get(collection, String(record.id))) continue;
      try {
        const stored = await ctx.store.collections.create(collection, { ...record, id: String(record.id), username: ADMIN_USERNAME });
        created++;
        await recordSystemActivity(ctx, `${type}_create`, { description: String(record.title), keywords: [stored.id], [type]: stored });
      } catch (error) {
        if (!(error instanceof StoreError && error.kind === 'conflict')) throw error;
      }
    }
  }
  try {
    await ctx.store.collections.create(SEED_MARKER.collection, { id: SEED_MARKER.id, version: SEED_VERSION });
  } catch (error) {
    if (!(error instanceof StoreError && error.kind === 'conflict')) throw error;
  }
  return created;
}
