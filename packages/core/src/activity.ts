/**
 * The activity indexes (spec/data-structures.md §23): the global activity log and the per-user security log.
 * Declared here so every service that writes (management) or reads (search) them uses the same spec.
 */
import type { IndexSpec } from '@shallot/store';

const ACTIVITY_FIELDS = {
  action: 'keyword',
  epoch: 'number',
  description: 'text',
  username: 'keyword',
  admin: 'keyword',
  ip: 'keyword',
  keywords: 'keyword',
} as const satisfies IndexSpec['fields'];

/** Every mutating API writes one row here (`<type>_create`, `user_login`, …). Unscoped (scope ''). */
export const ACTIVITY_INDEX: IndexSpec = {
  name: 'activity',
  fields: ACTIVITY_FIELDS,
  hot: ['action', 'epoch', 'username'],
};

/** The per-user security log (`get_user_activity`): same row shape plus `owner`, the user key it belongs to. */
export const USER_ACTIVITY_INDEX: IndexSpec = {
  name: 'user_activity',
  fields: { ...ACTIVITY_FIELDS, owner: 'keyword' },
  hot: ['owner', 'epoch'],
};

/** Scope of both activity indexes. */
export const ACTIVITY_SCOPE = '';
