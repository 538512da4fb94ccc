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
  setEventCursor,
  targetAllowed,
  writeEventState,
} from '@shallot/core';
import { eventNextRuns, isTimeZone, Zones } from '@shallot/core/schedule';
import {
  EVENT_ALGOS,
  type PluginParam,
  Trigger,
  deleteEvent,
  eventsApi,
  getEvent,
  getEventHistory,
  normalizeTriggers,
  triggerListProblem,
} from '@shallot/schemas';
import { Value } from '@sinclair/typebox/value';
import type { CollectionRecord } from '@shallot/store';
import { crudRoutes } from '../crud/index.js';
import type { Fields } from '../crud/routes.js';
import { ActionError, validateActions } from '../validation/actions.js';
import { checkOverrides, checkParamValues, resetLockedParams } from '../validation/event-params.js';
import { LimitError, validateLimits } from '../validation/limits.js';
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
  if (error instanceof ParamError || error instanceof ActionError || error instanceof LimitError || error instanceof ExpressionError) {
    throw new Errors.api(error.message);
  }
  throw error;
}

/** How many next runs get_event answers. */
const NEXT_RUNS = 5;

/** One strict schema per trigger type, so a refusal names the entry and its field instead of "union". */
const TRIGGER_SCHEMAS = new Map(Trigger.anyOf.map((schema) => [String(schema.properties.type.const), schema]));

/** The strict trigger list (data-structures §2), normalised (epochs floored to the minute); throws `api`. */
function checkTriggers(input: unknown): Fields[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) throw new Errors.api('triggers must be an array');
  if (input.length > 1000) throw new Errors.api('triggers: at most 1000 entries');
  for (const [index, entry] of input.entries()) {
    const type = asObject(entry).type;
    const schema = TRIGGER_SCHEMAS.get(String(type));
    if (!schema) {
      throw new Errors.api(
        `triggers[${index}]: unknown trigger type ${JSON.stringify(type)}; known: ${[...TRIGGER_SCHEMAS.keys()].join(', ')}`,
      );
    }
    const error = Value.Errors(schema, entry).First();
    if (error) throw new Errors.api(`triggers[${index}] (${String(type)})${error.path || ''}: ${error.message}`);
  }
  const triggers = input as Trigger[];
  const problem = triggerListProblem(triggers, isTimeZone);
  if (problem) throw new Errors.api(problem);
  return normalizeTriggers(triggers) as unknown as Fields[];
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
  record.triggers = checkTriggers(record.triggers);

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
    validateLimits(record.limits ?? []);
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
  const zones = new Zones(ctx.config.timezone && isTimeZone(ctx.config.timezone) ? ctx.config.timezone : undefined);
  /** The next runs of an event, none when its category or plugin is disabled (the scheduler would skip it). */
  async function nextRunsOf(event: Fields): Promise<number[]> {
    const category = await ctx.store.collections.get(CATEGORIES, String(event.category));
    if (!category || category.enabled === false) return [];
    if (typeof event.plugin === 'string' && !event.plugin.startsWith('_')) {
      const plugin = await ctx.store.collections.get(PLUGINS, event.plugin);
      if (!plugin || plugin.enabled === false) return [];
    }
    return eventNextRuns(event as unknown as Parameters<typeof eventNextRuns>[0], zones, Math.floor(Date.now() / 1000), NEXT_RUNS);
  }
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
      if (state) {
        await writeEventState(ctx.redis, id, state);
        // The time machine: the scheduler replays every minute after the cursor (catch-up events).
        if (typeof state.cursor === 'number' && Number.isFinite(state.cursor)) await setEventCursor(ctx.redis.client, id, state.cursor);
      }
    },
  });

  routes = wrapHandler(
    routes,
    eventsApi.get,
    (original) => async (call) => {
      const answer = (await original(call)) as Record<string, unknown>;
      const id = (call.params as { id: string }).id;
      const jobs = (await listActiveJobs(ctx.redis)).filter((job) => job.event === id);
      return {
        ...answer,
        jobs,
        queued: jobs.filter((job) => job.state === 'queued').length,
        next_runs: await nextRunsOf(asObject(answer.event)),
      };
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
