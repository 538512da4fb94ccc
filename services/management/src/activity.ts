/**
 * The one writer of activity rows (spec/data-structures.md §23): who did what, when, from where. Every mutating API
 * calls `recordActivity`; security-log entries (logins, password changes) also go to the user's own log.
 */
import { ACTIVITY_INDEX, ACTIVITY_SCOPE, type Caller, type ServiceContext, USER_ACTIVITY_INDEX, generateId, userKey } from '@shallot/core';
import type { Doc } from '@shallot/store';
import type { FastifyRequest } from 'fastify';

/** Headers that carry credentials: never stored. */
const SECRET_HEADERS = new Set(['cookie', 'authorization', 'x-api-key', 'x-session-id', 'x-csrf-token', 'proxy-authorization']);

export interface ActivityPayload {
  /** Usually the item title or id. */
  description?: string;
  /** Item ids; the username and the IPs are added. */
  keywords?: string[];
  /** Overrides the caller's name (e.g. a login, where there is no caller yet). */
  username?: string;
  /** Acting admin, when it differs from `username`. */
  admin?: string;
  /** The item (`category`, `user`, `api_key`, …), already redacted; `previous` for updates when useful. */
  [item: string]: unknown;
}

export interface ActivityOptions {
  /** Also write the row to this user's security log (`get_user_activity`). */
  securityLogOf?: string;
  /** Write only to the security log. */
  securityOnly?: boolean;
}

/** Request headers worth keeping: everything but credentials. */
export function safeHeaders(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (SECRET_HEADERS.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const keyword = (value: string): string => value.replace(/\W/g, '_');

/** Builds the activity row for an action; exported for tests and for callers that batch. */
export function activityRow(request: FastifyRequest, caller: Caller | null, action: string, payload: ActivityPayload): Doc {
  const { description, keywords = [], username: explicitUser, admin, ...item } = payload;
  const username = explicitUser ?? caller?.username ?? '';
  const ips = request.ips && request.ips.length > 0 ? [...request.ips] : [request.ip];
  const row: Doc = {
    id: generateId('a'),
    action,
    epoch: Math.floor(Date.now() / 1000),
    description: description ?? '',
    username,
    ip: request.ip,
    ips,
    headers: safeHeaders(request),
    useragent: request.headers['user-agent'] ?? '',
    keywords: [...new Set([...keywords, ...(username ? [keyword(username)] : []), ...ips])],
    ...item,
  };
  if (admin && admin !== username) row.admin = admin;
  if (caller?.kind === 'key') row.api_key = caller.username;
  return row;
}

/**
 * Writes one activity row (and the security-log copy when asked). The change it describes is already durable, so a
 * failure here is logged, not answered: the caller must not retry a change that happened.
 */
export async function recordActivity(
  ctx: ServiceContext,
  request: FastifyRequest,
  caller: Caller | null,
  action: string,
  payload: ActivityPayload = {},
  options: ActivityOptions = {},
): Promise<Doc> {
  const row = activityRow(request, caller, action, payload);
  try {
    if (!options.securityOnly) await ctx.store.indexes.upsert(ACTIVITY_INDEX.name, ACTIVITY_SCOPE, row);
    if (options.securityLogOf) {
      await ctx.store.indexes.upsert(USER_ACTIVITY_INDEX.name, ACTIVITY_SCOPE, { ...row, owner: userKey(options.securityLogOf) });
    }
  } catch (error) {
    request.log.error({ err: error, action }, 'activity row could not be written');
  }
  return row;
}

/** Creates the activity indexes; idempotent, run at startup. */
export async function ensureActivityIndexes(ctx: ServiceContext): Promise<void> {
  await ctx.store.indexes.ensure(ACTIVITY_INDEX);
  await ctx.store.indexes.ensure(USER_ACTIVITY_INDEX);
}

/** An activity row written by the system itself (first-run seeding): no request, stamped `admin`. */
export async function recordSystemActivity(ctx: ServiceContext, action: string, payload: ActivityPayload): Promise<void> {
  const { description, keywords = [], username = 'admin', admin: _admin, ...item } = payload;
  await ctx.store.indexes.upsert(ACTIVITY_INDEX.name, ACTIVITY_SCOPE, {
    id: generateId('a'),
    action,
    epoch: Math.floor(Date.now() / 1000),
    description: description ?? '',
    username,
    ip: '',
    keywords: [...keywords, keyword(username)],
    ...item,
  });
}
