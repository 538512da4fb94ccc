/**
 * Who is calling the task-monitor API and which of their org's applications a request names: the org of the
 * caller (session user's verified e-mail, or the API key's `org`), the allowed-orgs list, the `x-leek-app-name`
 * header and the application record. Used by management (applications) and search.
 *
 * Org membership comes from `verified_email`, never from `email`: a user may change their own `email` at any time
 * (to any address not used by another account), but only an administrator sets `verified_email` (on create, on an
 * update that sets the address, or with `verify_email: true`), so a self-service change never moves anyone into
 * another org. Application ownership and admin grants name a principal id (`LeekCaller.id`), not an address.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LEEK_APPLICATIONS, type LeekApplication, isAppName, isOrgName, leekScope, orgOfEmail } from '@shallot/schemas';
import type { CollectionRecord, Store } from '@shallot/store';
import type { Config } from './config.js';
import { API_KEYS, type Caller, userKey } from './identity.js';
import { LeekError } from './leek-errors.js';

export interface LeekCaller {
  org: string;
  /**
   * Compared with an app's `owner` and its admins' `user`: the username's storage key (`userKey`), or `key:<id>` for
   * an API key. Usernames cannot contain `:`, so the two never collide, and neither equals `public` (agent apps).
   */
  id: string;
  /** The verified address, for display ('' for API keys). */
  email: string;
  kind: Caller['kind'];
}

/** Owner of apps created by agents: nobody's id (ownership checks never match it). */
export const LEEK_PUBLIC_OWNER = 'public';

/** The address an org is derived from: only the administrator-confirmed one (trimmed, lower-case), or ''. */
export function verifiedEmailOf(user: Readonly<Record<string, unknown>> | undefined): string {
  const value = user?.verified_email;
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
}

/** `SHALLOT_LEEK_ALLOWED_ORGS` as a list; empty = every org. */
export function leekAllowedOrgs(config: Pick<Config, 'leekAllowedOrgs'>): string[] {
  return config.leekAllowedOrgs
    .split(',')
    .map((o) => o.trim().toLowerCase())
    .filter((o) => o !== '');
}

/** The caller's org and identity; 401 `401003` without credentials, without an org, or outside the allowed orgs. */
export async function leekCallerOf(caller: Caller | null, store: Store, config: Pick<Config, 'leekAllowedOrgs'>): Promise<LeekCaller> {
  if (caller === null) throw new LeekError('unauthorized', 'No session or API key');
  let org: string | undefined;
  let email = '';
  let id: string;
  if (caller.kind === 'session') {
    email = verifiedEmailOf(caller.user as Record<string, unknown> | undefined);
    org = orgOfEmail(email);
    if (org === undefined) {
      throw new LeekError(
        'unauthorized',
        'Your account has no verified e-mail address an organisation can be derived from: ask an administrator to confirm it',
      );
    }
    id = userKey(caller.username);
  } else {
    const key = await store.collections.get(API_KEYS, caller.username);
    org = typeof key?.org === 'string' ? key.org.toLowerCase() : undefined;
    if (org === undefined || !isOrgName(org))
      throw new LeekError('unauthorized', 'This API key has no organisation: it cannot use the task monitor');
    id = `key:${caller.username}`;
  }
  const allowed = leekAllowedOrgs(config);
  if (allowed.length > 0 && !allowed.includes(org)) throw new LeekError('unauthorized', `Organisation "${org}" is not allowed here`);
  return { org, id, email, kind: caller.kind };
}

const headerValue = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** The `x-leek-app-name` header: 400 `400001` when missing, 400 `400002` unless lower-case letters (never reaches a scope). */
export function leekAppHeader(request: FastifyRequest): string {
  const app = headerValue(request, 'x-leek-app-name');
  if (app === undefined) throw new LeekError('headerMissing', 'The x-leek-app-name header is required');
  if (!isAppName(app)) throw new LeekError('invalid', 'x-leek-app-name must be lower-case letters only');
  return app;
}

/** A URL as answers show it: its password (if any) replaced by `****`; an unparsable one entirely. */
export function maskUrlPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '****';
    return url.href;
  } catch {
    return '****';
  }
}

/**
 * A stored application as the API shows it: the record without the store's bookkeeping, the broker password masked
 * (every member of the org can list apps). Code that connects to the broker reads the record itself.
 */
export function applicationOf(record: CollectionRecord): LeekApplication {
  const { id: _id, revision: _revision, created: _created, modified: _modified, ...app } = record;
  // An unset broker is stored as null (a partial update cannot remove a field on every engine).
  if (typeof app.broker_url === 'string') app.broker_url = maskUrlPassword(app.broker_url);
  else delete app.broker_url;
  return app as unknown as LeekApplication;
}

/** The application record of an org, or undefined. Names are validated before they become an id. */
export async function findLeekApplication(store: Store, org: string, app: string): Promise<CollectionRecord | undefined> {
  if (!isOrgName(org) || !isAppName(app)) return undefined;
  return store.collections.get(LEEK_APPLICATIONS, leekScope(org, app));
}

/** The application record; 404 `404001` when the org has no such app. */
export async function getLeekApplication(store: Store, org: string, app: string): Promise<CollectionRecord> {
  const record = await findLeekApplication(store, org, app);
  if (record === undefined) throw new LeekError('appNotFound', `Application "${app}" does not exist`);
  return record;
}

/** Owner: the caller's id equals the app's owner (agent-created apps have none). */
export const isLeekOwner = (app: Pick<LeekApplication, 'owner'>, who: LeekCaller): boolean =>
  app.owner !== LEEK_PUBLIC_OWNER && app.owner === who.id;

/** Admin: the owner or a principal listed (by id) in the app's admins. */
export const isLeekAdmin = (app: Pick<LeekApplication, 'owner' | 'admins'>, who: LeekCaller): boolean =>
  isLeekOwner(app, who) || (app.admins ?? []).some((a) => a.user === who.id);

export type LeekLevel = 'member' | 'admin' | 'owner';

/**
 * The caller and the app the request names, checked for a permission level (spec §1.3): members need only to be of
 * the org (an app of another org is simply not found), admins and owners get 401 `401002` otherwise.
 */
export async function leekAppAccess(
  request: FastifyRequest,
  caller: Caller | null,
  store: Store,
  config: Pick<Config, 'leekAllowedOrgs'>,
  level: LeekLevel,
): Promise<{ who: LeekCaller; record: CollectionRecord; app: LeekApplication; scope: string }> {
  const who = await leekCallerOf(caller, store, config);
  const name = leekAppHeader(request);
  const record = await getLeekApplication(store, who.org, name);
  const app = applicationOf(record);
  if (level === 'owner' && !isLeekOwner(app, who)) throw new LeekError('notOwner', 'Only the application owner may do this');
  if (level === 'admin' && !isLeekAdmin(app, who)) throw new LeekError('notOwner', 'Only the application owner or an admin may do this');
  return { who, record, app, scope: leekScope(who.org, name) };
}

/**
 * A bare JSON string answer (`"Ready!"`, `"Done"`): Fastify sends string payloads as they are, so the handler returns
 * the string already encoded, typed as JSON.
 */
export function leekJsonString(reply: FastifyReply, text: string): string {
  reply.type('application/json; charset=utf-8');
  return JSON.stringify(text);
}
