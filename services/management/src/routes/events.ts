/**
 * Events (seed §Events, data-structures §1): CRUD on the framework, scoped by category and targets (behaviour §4),
 * with plugin param rules, fields, limits and actions validated; triggers are stored loosely (the scheduler owns
 * their semantics); `update_state` goes to the event's runtime state, never the record.
 */
import {
  ACTIVITY_INDEX,
  ACTIVITY_SCOPE,
  type Caller,
  Errors,
  ExpressionError,
  RecordError,
  type Implementation,
  JOBS_INDEX,
  JOBS_SCOPE,
  type ServiceContext,
  categoryAllowed,
  compileExpression,
  deleteEventState,
  implement,
  listActiveJobs,
  targetAllowed,
  writeEventState,
} from '@shallot/core';
import { EVENT_ALGOS, type PluginParam, deleteEvent, eventsApi, getEvent, getEventHistory } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { crudRoutes } from '../crud/index.js';
import type { Fields } from '../crud/routes.js';
import { ActionError, validateActions } from '../validation/actions.js';
import { checkOverrides, checkParamValues, resetLockedParams } from '../validation/event-params.js';
import { JobLimitError, validateJobLimits } from '../validation/job-limits.js';
import { ParamError, validateParams } from '../validation/plugin-params.js';
import { wrapHandler } from './section-helpers.js';

export const EVENTS = 'events';
const CATEGORIES = 'categories';
const PLUGINS = 'plugins';
const TAGS = 'tags';
export const WORKFLOW_PLUGIN = '_workflow';

const asParams = (value: unknown): PluginParam[] => (Array.isArray(value) ? (value as PluginParam[]) : []);
const asObject = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Behaviour §4: category, plus target any-match (workflows are exempt from the target check). */
export function eventAccess(caller: Caller, record: Fields): boolean {
  if (!categoryAllowed(caller, String(record.category ?? ''))) return false;
  if (record.type === 'workflow') return true;
  return targetAllowed(caller, Array.isArray(record.targets) ? (record.targets as string[]) : []);
}

function normaliseEnabled(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Errors.api('enabled must be true or false');
}

function refuseWith(error: unknown): never {
  if (error instanceof ParamError || error instanceof ActionError || error instanceof JobLimitError || error instanceof ExpressionError) {
    throw new Errors.api(error.message);
  }
  throw error;
}

export interface EventCheckOptions {
  caller: Caller;
  /** Saved param values: locked params are reset to them for non-admins (update, run); else the plugin defaults. */
  savedParams?: Record<string, unknown>;
}

/**
 * Validates and normalises an event (the new one, the merged one on update, the merged one on run). Returns the record
 * to store; throws `api` for a broken rule.
 */
export async function checkEvent(ctx: ServiceContext, input: Fields, options: EventCheckOptions): Promise<Fields> {
  const record: Fields = { ...input };
  delete record.update_state;
  record.enabled = normaliseEnabled(record.enabled);
  if (!String(record.title ?? '').trim()) throw new Errors.api('title must contain text');
  const workflow = record.type === 'workflow';
  if (!workflow) delete record.type;

  const category = await ctx.store.collections.get(CATEGORIES, String(record.category));
  if (!category) throw new Errors.api(`Category not found: ${String(record.category)}`);

  let plugin: CollectionRecord | undefined;
  if (workflow) {
    record.plugin = WORKFLOW_PLUGIN;
    record.targets = [];
    const graph = asObject(record.workflow);
    if (!Array.isArray(graph.nodes) || !Array.isArray(graph.connections))
      throw new Errors.api('A workflow event needs workflow.nodes and workflow.connections');
  } else {
    if (typeof record.plugin !== 'string' || !record.plugin) throw new Errors.api('plugin is required');
    if (!record.plugin.startsWith('_')) {
      plugin = await ctx.store.collections.get(PLUGINS, record.plugin);
      if (!plugin) throw new Errors.api(`Plugin not found: ${record.plugin}`);
      if (plugin.type !== 'event') throw new Errors.api(`Plugin "${record.plugin}" is not an event plugin`);
    }
    if (!Array.isArray(record.targets) || record.targets.length === 0)
      throw new Errors.api('targets must list at least one server or group');
    if (typeof record.algo !== 'string' || !record.algo) throw new Errors.api('algo is required');
    if (!(EVENT_ALGOS as readonly string[]).includes(record.algo) && !/^monitor:\w+$/.test(record.algo)) {
      throw new Errors.api(`Unknown algo: ${record.algo}`);
    }
  }
  if (typeof record.expression === 'string' && record.expression.trim()) {
    try {
      compileExpression(record.expression);
    } catch (error) {
      refuseWith(error);
    }
  }
  for (const tag of (record.tags as string[] | undefined) ?? []) {
    if (!(await ctx.store.collections.get(TAGS, tag))) throw new Errors.api(`Tag not found: ${tag}`);
  }

  try {
    const pluginParams = asParams(plugin?.params);
    const fields = asParams(record.fields);
    validateParams(fields);
    for (const field of fields) {
      if (pluginParams.some((p) => p.locked && p.id === field.id))
        throw new ParamError(`Field "${field.id}" collides with a locked plugin param`);
    }
    let params = asObject(record.params);
    checkOverrides(params);
    if (!options.caller.privileges.admin) params = resetLockedParams(pluginParams, params, options.savedParams);
    checkParamValues(pluginParams, params);
    checkParamValues(fields, params);
    record.params = params;
    validateJobLimits((record.limits as unknown[]) ?? []);
    await validateActions((record.actions as unknown[]) ?? [], {
      context: 'job',
      lookups: {
        event: async (id) => !!(await ctx.store.collections.get(EVENTS, id)) || id === record.id,
        plugin: async (id) => {
          const found = await ctx.store.collections.get(PLUGINS, id);
          return found ? { type: found.type } : undefined;
        },
      },
    });
  } catch (error) {
    refuseWith(error);
  }
  return record;
}

export function eventRoutes(ctx: ServiceContext): Implementation[] {
  /** update_state per request, written after the record is stored. */
  const pendingState = new WeakMap<object, Record<string, unknown>>();

  let routes = crudRoutes(eventsApi, ctx, {
    defaults: { params: {}, limits: [], actions: [], triggers: [], fields: [], tags: [], icon: '', notes: '' },
    access: eventAccess,
    async validate(record, { caller, request, update }) {
      const state = update ? update.patch.update_state : record.update_state;
      if (state !== undefined) pendingState.set(request, asObject(state));
      return checkEvent(ctx, record, { caller, ...(update ? { savedParams: asObject(update.stored.params) } : {}) });
    },
    async beforeDelete(record) {
      const active = (await listActiveJobs(ctx.redis)).filter((job) => job.event === record.id);
      if (active.length > 0)
        throw new RecordError('event', `Event "${record.id}" still has ${active.length} active job(s): abort them first.`);
    },
    async afterChange(action, record, { request }) {
      const id = String(record.id);
      if (action === 'delete') {
        await deleteEventState(ctx.redis, id);
        if ((request.body as { delete_jobs?: unknown } | undefined)?.delete_jobs === true) {
          // Background: the answer does not wait for the history to go.
          void ctx.store.indexes
            .deleteByQuery(JOBS_INDEX.name, JOBS_SCOPE, { term: { field: 'event', value: id } })
            .catch((err) => request.log.error({ err, event: id }, 'deleting the jobs of a deleted event failed'));
        }
        return;
      }
      const state = pendingState.get(request);
      if (state) await writeEventState(ctx.redis, id, state);
    },
  });

  routes = wrapHandler(
    routes,
    eventsApi.get,
    (original) => async (call) => {
      const answer = (await original(call)) as Record<string, unknown>;
      const id = (call.params as { id: string }).id;
      const jobs = (await listActiveJobs(ctx.redis)).filter((job) => job.event === id);
      return { ...answer, jobs, queued: jobs.filter((job) => job.state === 'queued').length };
    },
    getEvent,
  );
  routes = wrapHandler(routes, eventsApi.delete, (original) => original, deleteEvent);

  routes.push(
    implement(getEventHistory, async ({ params, caller }) => {
      if (!caller) throw new Errors.session('No Session ID or API Key could be found');
      const event = await ctx.store.collections.get(EVENTS, params.id);
      if (event && !eventAccess(caller, event)) throw new Errors.access(`You do not have access to event "${params.id}".`);
      const { offset = 0, limit = 1, sort_dir = -1 } = params;
      const order = sort_dir === 1 ? ('asc' as const) : ('desc' as const);
      const { hits, total } = await ctx.store.indexes.search(ACTIVITY_INDEX.name, ACTIVITY_SCOPE, {
        query: {
          bool: {
            filter: [
              { terms: { field: 'action', values: ['event_create', 'event_update', 'event_delete'] } },
              { term: { field: 'keywords', value: params.id } },
            ],
          },
        },
        sort: [
          { field: 'epoch', order },
          { field: 'id', order },
        ],
        offset,
        limit,
      });
      const rows = hits.map(({ ip: _ip, ips: _ips, headers: _headers, ...row }) => row);
      return { code: 0 as const, rows, list: { length: total } };
    }),
  );
  return routes;
}
