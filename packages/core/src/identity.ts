/** Principals (users and API keys) and their effective permissions (spec/behaviour.md §3). */
import { createHash } from 'node:crypto';
import type { PublicUser, StoredUser } from '@shallot/schemas';
import type { CollectionRecord, Store } from '@shallot/store';

export const USERS = 'users';
export const API_KEYS = 'api_keys';
export const ROLES = 'roles';

export interface Permissions {
  privileges: Record<string, boolean>;
  /** Empty means unrestricted. */
  categories: string[];
  groups: string[];
}

export interface Caller extends Permissions {
  kind: 'session' | 'key';
  /** The username, or the API key's id. */
  username: string;
  /** The API key's title, for messages. */
  keyTitle?: string;
  /** The API key's rate limit, requests per second. */
  maxPerSec?: number;
  user?: PublicUser;
  /** Session claims, when authenticated by session. */
  session?: SessionClaims;
  /** How the session id arrived: a cookie needs a CSRF token for writes. */
  via?: 'cookie' | 'header' | 'bearer' | 'param';
}

export interface SessionClaims {
  /** The username. */
  sub: string;
  /** The stored session's id: the SHA-256 of the session id the client holds (safe to log). */
  sid: string;
  csrf: string;
  /** Issued and expires, epoch seconds. */
  iat: number;
  exp: number;
}

/** Storage key of a username: lowercase, non-word characters removed, so `john.doe` and `johndoe` collide. */
export function userKey(username: string): string {
  return username.toLowerCase().replace(/\W/g, '');
}

/** The user was given a password they must replace before using anything else. */
export function mustChangePassword(user: Readonly<Record<string, unknown>> | undefined): boolean {
  return user?.force_password_change === true || user?.force_password_change === 1;
}

export function publicUser(user: StoredUser | CollectionRecord): PublicUser {
  const { password: _password, id: _id, revision: _revision, ...rest } = user as StoredUser & { revision?: number };
  return rest as PublicUser;
}

export function hashApiKey(plain: string): string {
  return createHash('sha256').update(plain).digest('hex');
}

function toList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toPrivileges(value: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (v === true || v === 1) out[k] = true;
  }
  return out;
}

/** Own privileges ∪ those of every enabled role; admin lifts category and group restrictions. */
export async function effectivePermissions(store: Store, principal: Readonly<Record<string, unknown>>): Promise<Permissions> {
  const privileges = toPrivileges(principal.privileges);
  const categories = new Set(toList(principal.categories));
  const groups = new Set(toList(principal.groups));
  for (const roleId of toList(principal.roles)) {
    const role = await store.collections.get(ROLES, roleId);
    if (!role || role.enabled === false) continue;
    Object.assign(privileges, toPrivileges(role.privileges));
    for (const c of toList(role.categories)) categories.add(c);
    for (const g of toList(role.groups)) groups.add(g);
  }
  if (privileges.admin) return { privileges, categories: [], groups: [] };
  return { privileges, categories: [...categories], groups: [...groups] };
}
