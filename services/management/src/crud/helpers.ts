/** Ready-made hook pieces for common section rules. */
import { type Caller, Errors, categoryAllowed, groupAllowed } from '@shallot/core';
import type { Fields } from './routes.js';

/** Scoping for the categories section: the record's own id is the category (behaviour §4). */
export const byCategoryId = (caller: Caller, record: Fields): boolean => categoryAllowed(caller, String(record.id));

/** Scoping for the groups section: the record's own id is the group (behaviour §4). */
export const byGroupId = (caller: Caller, record: Fields): boolean => groupAllowed(caller, String(record.id));

/** `{<privilege>: true}` with every false-y grant dropped: roles, users and keys never store false values. */
export function privilegeGrants(value: unknown, field = 'privileges'): Record<string, true> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Errors.api(`${field} must be an object`);
  const out: Record<string, true> = {};
  for (const [key, granted] of Object.entries(value)) if (granted === true || granted === 1) out[key] = true;
  return out;
}
