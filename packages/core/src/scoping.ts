/** Resource scoping primitives (spec/behaviour.md §4): category, group and target checks on a caller's permissions. */
import type { Permissions } from './identity.js';

/** Passes every check: admin, or no restriction in that dimension. */
const ALL = '*';

function isAdmin(permissions: Permissions): boolean {
  return permissions.privileges.admin === true;
}

/** True when the caller may touch category `id`; `'*'` passes only for callers without a category restriction. */
export function categoryAllowed(permissions: Permissions, id: string): boolean {
  if (isAdmin(permissions) || permissions.categories.length === 0) return true;
  return id !== ALL && permissions.categories.includes(id);
}

/** True when the caller may touch group `id`; `'*'` passes only for callers without a group restriction. */
export function groupAllowed(permissions: Permissions, id: string): boolean {
  if (isAdmin(permissions) || permissions.groups.length === 0) return true;
  return id !== ALL && permissions.groups.includes(id);
}

/**
 * Any-match of `targets` (group and server ids) against the caller's groups. An empty target list (workflows) passes;
 * server ids alone never satisfy a group restriction.
 */
export function targetAllowed(permissions: Permissions, targets: readonly string[]): boolean {
  if (isAdmin(permissions) || permissions.groups.length === 0 || targets.length === 0) return true;
  return targets.some((t) => permissions.groups.includes(t));
}

/** True when the caller has a category or a group restriction. */
export function isRestricted(permissions: Permissions): boolean {
  return !isAdmin(permissions) && (permissions.categories.length > 0 || permissions.groups.length > 0);
}
