/**
 * Task-monitor applications (leek-management-and-search §2–§4): create, delete, purge, clean, storage stats, triggers,
 * admins and dead letters, as plain functions over the store. Callers have checked who may do what.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { LEEK_PUBLIC_OWNER, LeekError, USERS, applicationOf, leekAllowedOrgs, userKey, verifiedEmailOf } from '@shallot/core';
import {
  CLEAN_UNIT_MS,
  LEEK_APPLICATIONS,
  type LeekAdmin,
  type LeekApplication,
  type LeekApplicationCreate,
  type LeekCleanQuery,
  type LeekDeadLetter,
  type LeekTrigger,
  type LeekTriggerBody,
  leekScope,
  orgOfEmail,
} from '@shallot/schemas';
import {
  type CollectionRecord,
  LEEK_DEAD_LETTERS_INDEX,
  LEEK_EVENTS_INDEX,
  LEEK_SUMMARY_INDEX,
  type Store,
  StoreError,
} from '@shallot/store';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** @default length of the random part of an application key (spec §2: `app-` + 48 alphanumerics) */
export const APP_KEY_RANDOM_LENGTH = 48;
/** @default how often a read-modify-write of an app record is retried when another writer got in between */
const UPDATE_ATTEMPTS = 5;
/** Applications listed per org at most (an org with more is not a use the UI serves either). */
const MAX_APPS_PER_ORG = 1000;
/** Owner of apps created by agents (no caller ever matches it). */
export const PUBLIC_OWNER = LEEK_PUBLIC_OWNER;

/** `app-` + 48 uniformly drawn alphanumerics (rejection sampling: 248 = 4 × 62). */
export function generateAppKey(): string {
  let out = 'app-';
  while (out.length < 4 + APP_KEY_RANDOM_LENGTH) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && out.length < 4 + APP_KEY_RANDOM_LENGTH) out += KEY_ALPHABET[byte % 62];
    }
  }
  return out;
}

/** Trigger ids: 10 random upper-case letters (spec §4.1). */
export function generateTriggerId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += String.fromCharCode(65 + randomInt(26));
  return id;
}

/** Every partition of an app's data; delete drops them all, purge only the events. */
const APP_INDEXES = [LEEK_EVENTS_INDEX, LEEK_DEAD_LETTERS_INDEX, LEEK_SUMMARY_INDEX] as const;

async function dropAppData(store: Store, scope: string): Promise<void> {
  for (const index of APP_INDEXES) await store.indexes.dropScope(index, scope);
}

export interface NewApplication {
  org: string;
  owner: string;
  app_name: string;
  app_description: string;
  /** Agent-created apps use the shared agent secret as their key. */
  app_key?: string;
}

/**
 * Creates an application; 412 `412001` when the name is taken in the org (exact match: `leek` and `leekx` are
 * different apps). Storage left behind by an earlier app of the same name (a delete that failed half-way) is
 * cleared first, so a new app never starts with someone else's documents.
 */
export async function createApplication(store: Store, input: NewApplication): Promise<LeekApplication> {
  const id = leekScope(input.org, input.app_name);
  if ((await store.collections.get(LEEK_APPLICATIONS, id)) !== undefined) {
    throw new LeekError('appExists', `Application "${input.app_name}" already exists`);
  }
  await dropAppData(store, id);
  const app: LeekApplication = {
    org: input.org,
    app_name: input.app_name,
    app_description: input.app_description,
    app_key: input.app_key ?? generateAppKey(),
    owner: input.owner,
    created_at: Date.now(),
    fo_triggers: [],
  };
  try {
    return applicationOf(await store.collections.create(LEEK_APPLICATIONS, { id, ...app }));
  } catch (error) {
    if (error instanceof StoreError && error.kind === 'conflict')
      throw new LeekError('appExists', `Application "${input.app_name}" already exists`);
    throw error;
  }
}

/** `POST /v1/applications` input → a new app owned by the caller (`owner` = the caller's id, see LeekCaller). */
export function createFromRequest(store: Store, org: string, owner: string, body: LeekApplicationCreate): Promise<LeekApplication> {
  return createApplication(store, { org, owner, app_name: body.app_name, app_description: body.app_description });
}

export async function listApplications(store: Store, org: string): Promise<LeekApplication[]> {
  const { rows } = await store.collections.list(LEEK_APPLICATIONS, {
    where: { org },
    limit: MAX_APPS_PER_ORG,
    sort: [{ field: 'app_name', order: 'asc' }],
  });
  return rows.map(applicationOf);
}

/**
 * Deletes the app record first — agents and searches get 404 from then on — then every partition of its data. If
 * dropping the data fails, the leftovers are unreachable and cleared by the next create of that name.
 */
export async function deleteApplication(store: Store, org: string, appName: string): Promise<void> {
  const scope = leekScope(org, appName);
  await store.collections.delete(LEEK_APPLICATIONS, scope);
  await dropAppData(store, scope);
}

/** Every task and worker document goes; the app, its triggers, its dead letters and its summary stay (spec §3). */
export async function purgeApplication(store: Store, scope: string): Promise<number> {
  return store.indexes.dropScope(LEEK_EVENTS_INDEX, scope);
}

/** Deletes documents of `kind` whose `timestamp` ≤ now − count·unit; returns how many. */
export async function cleanApplication(store: Store, scope: string, query: LeekCleanQuery, now = Date.now()): Promise<number> {
  const cutoff = now - query.count * CLEAN_UNIT_MS[query.unit];
  return store.indexes.deleteByQuery(LEEK_EVENTS_INDEX, scope, {
    bool: {
      must: [{ term: { field: 'kind', value: query.kind } }, { range: { field: 'timestamp', lte: cutoff } }],
    },
  });
}

export interface PartitionStats {
  name: string;
  primaries: {
    docs: { count: number };
    store: { size_in_bytes: number };
    indexing: { index_total: number; index_time_in_millis: number };
  };
}

/** One entry per partition, in the shape of Elasticsearch index stats the UI reads. */
export async function applicationStats(store: Store, scope: string): Promise<PartitionStats[]> {
  const names: Record<(typeof APP_INDEXES)[number], string> = {
    [LEEK_EVENTS_INDEX]: 'events',
    [LEEK_DEAD_LETTERS_INDEX]: 'dead_letters',
    [LEEK_SUMMARY_INDEX]: 'summary',
  };
  const out: PartitionStats[] = [];
  for (const index of APP_INDEXES) {
    const { count, bytes } = await store.indexes.stats(index, scope);
    out.push({
      name: names[index],
      primaries: { docs: { count }, store: { size_in_bytes: bytes }, indexing: { index_total: count, index_time_in_millis: 0 } },
    });
  }
  return out;
}

/**
 * Read-modify-write of an app record with optimistic concurrency: `change` gets the current app and returns the
 * fields to write; retried from a fresh read when another writer got in between.
 */
export async function updateApplication(
  store: Store,
  record: CollectionRecord,
  change: (app: LeekApplication) => Partial<LeekApplication>,
): Promise<LeekApplication> {
  let current = record;
  for (let attempt = 1; ; attempt++) {
    try {
      const updated = await store.collections.update(LEEK_APPLICATIONS, current.id, change(applicationOf(current)), {
        expectRevision: current.revision,
      });
      return applicationOf(updated);
    } catch (error) {
      if (!(error instanceof StoreError) || attempt >= UPDATE_ATTEMPTS) throw error;
      if (error.kind === 'notfound') throw new LeekError('appNotFound', 'The application was deleted meanwhile');
      if (error.kind !== 'conflict') throw error;
      const fresh = await store.collections.get(LEEK_APPLICATIONS, current.id);
      if (fresh === undefined) throw new LeekError('appNotFound', 'The application was deleted meanwhile');
      current = fresh;
    }
  }
}

/** Rules the schema cannot say (spec §4.1): include xor exclude, patterns that compile, an http(s) web hook URL. */
export function checkTrigger(body: LeekTriggerBody): void {
  if (body.include !== undefined && body.exclude !== undefined) {
    throw new LeekError('invalid', 'A trigger takes include or exclude patterns, not both');
  }
  for (const pattern of [...(body.include ?? []), ...(body.exclude ?? [])]) {
    try {
      new RegExp(pattern);
    } catch {
      throw new LeekError('invalid', `Pattern ${JSON.stringify(pattern)} is not a valid regular expression`);
    }
  }
  let url: URL;
  try {
    url = new URL(body.slack_wh_url);
  } catch {
    throw new LeekError('invalid', 'invalid webhook URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new LeekError('invalid', 'invalid webhook URL: use http(s)');
}

/** A stored trigger from a request body: defaults applied, id given. */
export function triggerFromBody(id: string, body: LeekTriggerBody): LeekTrigger {
  checkTrigger(body);
  const trigger: LeekTrigger = {
    id,
    enabled: body.enabled,
    type: body.type,
    slack_wh_url: body.slack_wh_url,
    states: body.states ?? [],
    envs: body.envs ?? [],
  };
  if (body.include !== undefined) trigger.include = body.include;
  if (body.exclude !== undefined) trigger.exclude = body.exclude;
  if (body.runtime_upper_bound !== undefined) trigger.runtime_upper_bound = body.runtime_upper_bound;
  return trigger;
}

/** Appends a trigger (built by `triggerFromBody`, its web hook verified). */
export function addTrigger(store: Store, record: CollectionRecord, trigger: LeekTrigger): Promise<LeekApplication> {
  return updateApplication(store, record, (app) => ({ fo_triggers: [...app.fo_triggers, trigger] }));
}

/** Replaces the trigger with that id; an unknown id is appended (spec: upsert). */
export function editTrigger(store: Store, record: CollectionRecord, trigger: LeekTrigger): Promise<LeekApplication> {
  return updateApplication(store, record, (app) => {
    const known = app.fo_triggers.some((t) => t.id === trigger.id);
    return { fo_triggers: known ? app.fo_triggers.map((t) => (t.id === trigger.id ? trigger : t)) : [...app.fo_triggers, trigger] };
  });
}

export function deleteTrigger(store: Store, record: CollectionRecord, id: string): Promise<LeekApplication> {
  return updateApplication(store, record, (app) => ({ fo_triggers: app.fo_triggers.filter((t) => t.id !== id) }));
}

/** Trigger ids in paths: what the server gives out (10 upper-case letters). */
export function checkTriggerId(id: unknown): string {
  if (typeof id !== 'string' || !/^[A-Z]{10}$/.test(id)) throw new LeekError('invalid', 'A trigger id is 10 upper-case letters');
  return id;
}

const EMAIL = /^[^\s@/\\]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
const USERNAME = /^[\w\-.]{1,64}$/;

export function checkEmail(value: unknown): string {
  const email = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!EMAIL.test(email)) throw new LeekError('invalid', 'Not an e-mail address');
  return email;
}

/**
 * Who may become an admin (spec §3): a verified e-mail whose domain or local part is in the allowed-orgs list.
 * Deviation: without a list, verified e-mails of the app's own org are eligible (they can already read the org).
 */
export function isEligibleAdmin(email: string, appOrg: string, config: { leekAllowedOrgs: string }): boolean {
  if (email === '') return false;
  const allowed = leekAllowedOrgs(config);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (allowed.length > 0) return allowed.includes(domain) || allowed.includes(local);
  return orgOfEmail(email) === appOrg;
}

/** The principal an admin grant names: a user's id and the verified address shown with it. */
export interface AdminTarget {
  user: string;
  email: string;
}

/**
 * The user the `:email` path segment of the admin endpoints names: a username, or an address that is the
 * *verified* e-mail of exactly one user (the Leek UI sends addresses). An address nobody has verified names nobody,
 * so claiming someone's address in one's own profile never earns their grants. 400 `400008` when no such user.
 */
export async function resolveAdminTarget(store: Store, value: unknown): Promise<AdminTarget> {
  const raw = typeof value === 'string' ? value.trim() : '';
  let user: CollectionRecord | undefined;
  if (raw.includes('@')) {
    const email = checkEmail(raw);
    const { rows } = await store.collections.list(USERS, { where: { verified_email: email }, limit: 2 });
    user = rows.length === 1 ? rows[0] : undefined;
  } else if (USERNAME.test(raw) && userKey(raw) !== '') {
    user = await store.collections.get(USERS, userKey(raw));
  } else {
    throw new LeekError('invalid', 'Name an admin by username or e-mail address');
  }
  if (user === undefined || user.active === false)
    throw new LeekError('notEligible', `No active user with the verified address or username "${raw}"`);
  return { user: user.id, email: verifiedEmailOf(user) };
}

/** Grants admin; a re-grant keeps the first entry (and its `since`). */
export function addAdmin(store: Store, record: CollectionRecord, target: AdminTarget): Promise<LeekApplication> {
  return updateApplication(store, record, (app) => {
    const admins: LeekAdmin[] = app.admins ?? [];
    return admins.some((a) => a.user === target.user)
      ? { admins }
      : { admins: [...admins, { user: target.user, email: target.email, since: Date.now() }] };
  });
}

/**
 * Removes the grants the path segment names: by username, or by address (the grants shown with that address and
 * those of the user who verified it), so a grant stays removable after its user changed address or was deleted.
 */
export async function removeAdmin(store: Store, record: CollectionRecord, value: unknown): Promise<LeekApplication> {
  const raw = typeof value === 'string' ? value.trim() : '';
  const ids = new Set<string>();
  let email: string | undefined;
  if (raw.includes('@')) {
    email = checkEmail(raw);
    const { rows } = await store.collections.list(USERS, { where: { verified_email: email }, limit: 2 });
    if (rows.length === 1 && rows[0]) ids.add(rows[0].id);
  } else if (USERNAME.test(raw) && userKey(raw) !== '') {
    ids.add(userKey(raw));
  } else {
    throw new LeekError('invalid', 'Name an admin by username or e-mail address');
  }
  return updateApplication(store, record, (app) => ({
    admins: (app.admins ?? []).filter((a) => !ids.has(a.user) && (email === undefined || a.email !== email)),
  }));
}

export async function listDeadLetters(
  store: Store,
  scope: string,
  page: { size: number; from: number },
): Promise<{ total: number; dead_letters: LeekDeadLetter[] }> {
  const { total, hits } = await store.indexes.search(LEEK_DEAD_LETTERS_INDEX, scope, {
    sort: [{ field: 'received_at', order: 'desc' }],
    offset: page.from,
    limit: page.size,
  });
  return { total, dead_letters: hits as unknown as LeekDeadLetter[] };
}

export function purgeDeadLetters(store: Store, scope: string): Promise<number> {
  return store.indexes.dropScope(LEEK_DEAD_LETTERS_INDEX, scope);
}
