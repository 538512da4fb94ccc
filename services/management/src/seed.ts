/** First-run records: the admin user (more defaults arrive with the definition APIs). */
import { randomBytes } from 'node:crypto';
import { USERS, hashPassword, userKey } from '@shallot/core';
import { type Store, StoreError } from '@shallot/store';

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
      active: true,
      password: await hashPassword(password),
      privileges: { admin: true },
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
