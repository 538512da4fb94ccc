/**
 * The definition-CRUD handlers (spec/behaviour.md §13) for descriptors built by `crudApi`: list, get, create, update,
 * delete and multi_update on a store collection, with server-set bookkeeping, scoping, hooks and activity.
 */
import {
  type Caller,
  Errors,
  type Implementation,
  RecordError,
  type ServiceContext,
  cachedRead,
  generateId,
  implement,
  missingRecord,
} from '@shallot/core';
import { BOOKKEEPING_KEYS, type CrudApi } from '@shallot/schemas';
import { type CollectionRecord, StoreError } from '@shallot/store';
import type { FastifyRequest } from 'fastify';
import type { TObject } from '@sinclair/typebox';
import { recordActivity } from '../activity.js';

export type Fields = Record<string, unknown>;

/** What every hook is given. */
export interface HookContext {
  ctx: ServiceContext;
  caller: Caller;
  request: FastifyRequest;
  /** Extra fields for the create/update answer (e.g. an API key's plain key, shown once). */
  answer: Fields;
}

export interface UpdateHookContext extends HookContext {
  /** The stored record before the update. */
  stored: CollectionRecord;
  /** The fields the client sent (without id and bookkeeping). */
  patch: Fields;
}

export interface CrudHooks {
  /** Per-type defaults for create (e.g. `{enabled: true}`); the client's fields win. */
  defaults?: Fields | (() => Fields);
  /**
   * Deep validation and normalisation of the record about to be stored: the full new record on create, the merged
   * record on update (`update` set). Return the record to store (or nothing to keep it); throw `Errors.api` to refuse.
   */
  validate?: (record: Fields, hook: HookContext & { update?: UpdateHookContext }) => Promise<Fields | undefined> | Fields | undefined;
  /** Delete guard: throw to refuse (e.g. a category still used by an event). */
  beforeDelete?: (record: CollectionRecord, hook: HookContext) => Promise<void> | void;
  /**
   * Hides secrets in every answer and activity row. Must not mutate its argument. `reader` is the caller an answer
   * goes to (absent for activity rows, which many may read): a hook may show more to privileged readers.
   */
  redact?: (record: CollectionRecord, reader?: Caller) => Fields;
  /**
   * Resource scoping (behaviour §4): may this caller see or change this record? Lists are filtered with it; single
   * calls answer `access`. Update checks both the stored and the merged record; create the new one.
   */
  access?: (caller: Caller, record: Fields) => boolean;
  /** multi_update needs an unrestricted caller in these dimensions (categories, groups: `'*'`). */
  multiUpdateNeedsUnrestricted?: Array<'categories' | 'groups'>;
  /** Runs after a change is stored and logged (e.g. push to agents). Errors are logged, not answered. */
  afterChange?: (action: 'create' | 'update' | 'delete' | 'multi_update', record: Fields, hook: HookContext) => Promise<void> | void;
}

/** Store page size when a list has to be filtered in memory. */
const SCAN_PAGE = 1000;
const IGNORED_KEYS: ReadonlySet<string> = new Set(['id', ...BOOKKEEPING_KEYS]);

function ownParams(params: Fields): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(params)) if (!IGNORED_KEYS.has(key) && value !== undefined) out[key] = value;
  return out;
}

function label(type: string): string {
  const words = type.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The caller, which the descriptor's privilege guard has already required. */
function required(caller: Caller | null): Caller {
  if (!caller) throw new Errors.session('No Session ID or API Key could be found');
  return caller;
}

/** Per process: cached full reads of each collection, dropped on any change to it (see `cachedRead`). */
const scans = new WeakMap<ServiceContext, Map<string, () => Promise<readonly CollectionRecord[]>>>();

/**
 * Every record of a collection, in list order; collections are definitions, so they are small. Served from a
 * per-process cache invalidated by change notices; the records are frozen because every caller shares them.
 */
export async function scanAll(ctx: ServiceContext, collection: string, ordered: boolean): Promise<readonly CollectionRecord[]> {
  let byKey = scans.get(ctx);
  if (!byKey) {
    byKey = new Map();
    scans.set(ctx, byKey);
  }
  const key = `${collection}:${ordered}`;
  let read = byKey.get(key);
  if (!read) {
    read = cachedRead(ctx.changes, collection, async () => {
      const rows: CollectionRecord[] = [];
      for (let offset = 0; ; offset += SCAN_PAGE) {
        const page = await ctx.store.collections.list(collection, { offset, limit: SCAN_PAGE, sort: listSort(ordered) });
        for (const row of page.rows) rows.push(Object.freeze(row));
        if (page.rows.length < SCAN_PAGE) return Object.freeze(rows);
      }
    });
    byKey.set(key, read);
  }
  return read();
}

function listSort(ordered: boolean) {
  return ordered
    ? [
        { field: 'sort_order', order: 'asc' as const },
        { field: 'created', order: 'asc' as const },
      ]
    : [{ field: 'created', order: 'asc' as const }];
}

/** Handlers for every descriptor of a `crudApi` section. */
export function crudRoutes<R extends TObject>(api: CrudApi<R>, ctx: ServiceContext, hooks: CrudHooks = {}): Implementation[] {
  const { collection, type, singular, idPrefix, ordered } = api.options;
  const redact = (record: CollectionRecord, reader?: Caller): Fields => (hooks.redact ? hooks.redact(record, reader) : record);
  const Label = label(type);

  function checkAccess(caller: Caller, record: Fields): void {
    if (hooks.access && !hooks.access(caller, record)) {
      throw new Errors.access(`You do not have access to ${type.replaceAll('_', ' ')} "${String(record.id)}".`);
    }
  }

  async function load(id: string): Promise<CollectionRecord> {
    const record = await ctx.store.collections.get(collection, id);
    if (!record) throw missingRecord(singular, id);
    return record;
  }

  async function after(action: Parameters<NonNullable<CrudHooks['afterChange']>>[0], record: Fields, hook: HookContext) {
    if (!hooks.afterChange) return;
    try {
      await hooks.afterChange(action, record, hook);
    } catch (error) {
      hook.request.log.error({ err: error, type, action }, 'afterChange hook failed');
    }
  }

  async function nextSortOrder(): Promise<number> {
    const { rows } = await ctx.store.collections.list(collection, { limit: 1, sort: [{ field: 'sort_order', order: 'desc' }] });
    const max = rows[0]?.sort_order;
    return typeof max === 'number' ? max + 1 : 0;
  }

  const implementations: Implementation[] = [
    implement(api.list, async ({ params, caller }) => {
      const who = required(caller);
      const { offset = 0, limit } = params as { offset?: number; limit?: number };
      const visible = (await scanAll(ctx, collection, ordered)).filter((r) => !hooks.access || hooks.access(who, r));
      const rows = visible.slice(offset, limit === undefined ? undefined : offset + limit);
      return { code: 0 as const, rows: rows.map((r) => redact(r, who)), list: { length: visible.length } };
    }),

    implement(api.get, async ({ params, caller }) => {
      const record = await load((params as { id: string }).id);
      const who = required(caller);
      checkAccess(who, record);
      return { code: 0 as const, [singular]: redact(record, who) };
    }),

    implement(api.create, async ({ params, caller, request }) => {
      const who = required(caller);
      const hook: HookContext = { ctx, caller: who, request, answer: {} };
      const given = params as Fields;
      const defaults = typeof hooks.defaults === 'function' ? hooks.defaults() : (hooks.defaults ?? {});
      const id = typeof given.id === 'string' && given.id !== '' ? given.id : generateId(idPrefix);
      let record: Fields = { ...defaults, ...ownParams(given), id, username: who.username };
      if (ordered) record.sort_order = await nextSortOrder();
      checkAccess(who, record);
      if (hooks.validate) record = (await hooks.validate(record, hook)) ?? record;
      let created: CollectionRecord;
      try {
        created = await ctx.store.collections.create(collection, { ...record, id });
      } catch (error) {
        if (error instanceof StoreError && error.kind === 'conflict') throw new RecordError(type, `${Label} already exists: ${id}`, 409);
        throw error;
      }
      await recordActivity(ctx, request, who, `${type}_create`, { description: titleOf(created), keywords: [id], [type]: redact(created) });
      await after('create', created, hook);
      return { ...hook.answer, code: 0 as const, [singular]: redact(created, who) };
    }),

    implement(api.update, async ({ params, caller, request }) => {
      const who = required(caller);
      const { id } = params as { id: string };
      const stored = await load(id);
      checkAccess(who, stored);
      const patch = ownParams(params as Fields);
      let merged: Fields = { ...stored, ...patch };
      checkAccess(who, merged);
      const hook: HookContext = { ctx, caller: who, request, answer: {} };
      if (hooks.validate) merged = (await hooks.validate(merged, { ...hook, update: { ...hook, stored, patch } })) ?? merged;
      // Every own field of the merged record is written, so a validate hook may normalise fields the client did not send.
      const updated = await ctx.store.collections.update(collection, id, ownParams(merged), { expectRevision: stored.revision });
      await recordActivity(ctx, request, who, `${type}_update`, {
        description: titleOf(updated),
        keywords: [id],
        [type]: redact(updated),
        changed: Object.keys(patch),
      });
      await after('update', updated, hook);
      return api.options.updateReturnsRecord
        ? { ...hook.answer, code: 0 as const, [singular]: redact(updated, who) }
        : { ...hook.answer, code: 0 as const };
    }),

    implement(api.delete, async ({ params, caller, request }) => {
      const who = required(caller);
      const { id } = params as { id: string };
      const stored = await load(id);
      checkAccess(who, stored);
      const hook: HookContext = { ctx, caller: who, request, answer: {} };
      if (hooks.beforeDelete) await hooks.beforeDelete(stored, hook);
      if (!(await ctx.store.collections.delete(collection, id))) throw missingRecord(singular, id);
      await recordActivity(ctx, request, who, `${type}_delete`, { description: titleOf(stored), keywords: [id], [type]: redact(stored) });
      await after('delete', stored, hook);
      return { code: 0 as const };
    }),
  ];

  if (api.multiUpdate) {
    implementations.push(
      implement(api.multiUpdate, async ({ params, caller, request }) => {
        const who = required(caller);
        for (const dimension of hooks.multiUpdateNeedsUnrestricted ?? []) {
          if (!who.privileges.admin && who[dimension].length > 0) {
            throw new Errors.access(`Reordering ${api.options.title} needs access to all ${dimension}.`);
          }
        }
        const { items } = params as { items: Array<{ id: string; sort_order: number }> };
        // Only sort_order, by design: modified and revision stay as they are (behaviour §13).
        const patched = await ctx.store.collections.patchMany(
          collection,
          items.map((item) => ({ id: item.id, fields: { sort_order: item.sort_order } })),
        );
        await recordActivity(ctx, request, who, `${type}_multi_update`, {
          description: `${patched} ${api.options.title} reordered`,
          keywords: items.map((i) => i.id),
          keys: ['sort_order'],
          items,
        });
        await after('multi_update', { items }, { ctx, caller: who, request, answer: {} });
        return { code: 0 as const };
      }),
    );
  }
  return implementations;
}

function titleOf(record: Fields): string {
  return typeof record.title === 'string' && record.title !== '' ? record.title : String(record.id);
}
