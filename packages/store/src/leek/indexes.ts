/**
 * Where the task monitor keeps its data: the index specs (task + worker documents, dead letters, per-task-name summary)
 * and their merges. Every index is scoped per application with `leekScope(org, app)`; names never come from requests.
 */
import { TASK_STATES } from '@shallot/schemas';
import type { Doc, FieldType, IndexSpec, MergeDefinition, Store } from '../types.js';
import { PAINLESS_HELPERS, TASK_MERGE_PAINLESS, mergeTaskDocument } from './task-merge.js';
import { WORKER_MERGE_PAINLESS, mergeWorkerDocument } from './worker-merge.js';

/** Task and worker documents share one index (and one id space per app), told apart by `kind`, as in Leek. */
export const LEEK_EVENTS_INDEX = 'leek_events';
/** Ingested documents that failed validation, with the reason and the document as received. */
export const LEEK_DEAD_LETTERS_INDEX = 'leek_dead_letters';
/** One row per (environment, task name): counts by state, last seen, runtimes; maintained from ingest transitions. */
export const LEEK_SUMMARY_INDEX = 'leek_summary';
/**
 * Task notifications, written in the same transaction as the ingest write that caused them and kept until the ingest
 * service's relay has handed them to the notify queue: a notification is never lost between store and Redis.
 */
export const LEEK_OUTBOX_INDEX = 'leek_outbox';
/** The outbox is one queue for every application, not a per-app scope. */
export const LEEK_OUTBOX_SCOPE = 'pending';

const dates = (...names: string[]): Record<string, FieldType> => Object.fromEntries(names.map((n) => [n, 'date' as const]));
const keywords = (...names: string[]): Record<string, FieldType> => Object.fromEntries(names.map((n) => [n, 'keyword' as const]));

/** Every state a summary row counts (task states, leek-agent-protocol §5). */
export const LEEK_SUMMARY_STATES = TASK_STATES;

/**
 * Fields of task and worker documents (leek-management-and-search §7.5 plus the worker fields the UI shows).
 * `kwargs_flattened` is flattened (`kwargs_flattened.<path>` queries one key). No field is full text: the client only
 * ever matches whole values (`term` on `error.message` — exact match, as the spec's contract asks), aggregates
 * `exception.keyword` (= the keyword `exception` here) and wildcards `trace.wc`; `trace.text` is never queried. Full
 * text would cost every write an FTS update. `.wc` and `.keyword` sub-fields map to their keyword field.
 */
export const LEEK_EVENTS_FIELDS: Readonly<Record<string, FieldType>> = {
  ...keywords('kind', 'app_env', 'state', 'uuid', 'name', 'worker', 'client', 'hostname', 'queue', 'exchange', 'routing_key'),
  ...keywords('root_id', 'parent_id', 'name_parts.module', 'name_parts.function', 'args', 'kwargs', 'result', 'lang', 'events'),
  ...keywords(...Array.from({ length: 10 }, (_, i) => `args_${i}`)),
  ...keywords('error.type', 'error.message', 'exception', 'trace.wc', 'sw_ident', 'sw_ver', 'sw_sys'),
  kwargs_flattened: 'flattened',
  terminated: 'boolean',
  expired: 'boolean',
  requeue: 'boolean',
  runtime: 'number',
  retries: 'number',
  events_count: 'number',
  exact_timestamp: 'number',
  processed: 'number',
  active: 'number',
  freq: 'number',
  ...dates('timestamp', 'updated_at', 'eta', 'expires'),
  ...dates('queued_at', 'received_at', 'started_at', 'retried_at', 'succeeded_at', 'failed_at', 'rejected_at', 'revoked_at'),
  ...dates('online_at', 'last_heartbeat_at', 'offline_at'),
};

/** The frequently filtered fields: real indexed columns on sqlite. */
/**
 * Indexed columns of `leek_events`. Each one costs every write a B-tree update: `uuid` is left out (it is the id, see
 * `idAliases`; its random values made it the costliest index, 35 % of ingest CPU) and so is the rarely filtered `queue`.
 */
export const LEEK_EVENTS_HOT = ['kind', 'state', 'name', 'app_env', 'timestamp', 'worker', 'root_id'] as const;

/** Dispatches to the task or worker merge by `kind`; a document never merges into one of the other kind (skip). */
export function mergeLeekDocument(stored: Doc | undefined, incoming: Doc): Doc | undefined {
  if (stored !== undefined && Object.keys(stored).length > 0 && stored.kind !== incoming.kind) return undefined;
  return incoming.kind === 'worker' ? mergeWorkerDocument(stored, incoming) : mergeTaskDocument(stored, incoming);
}

/** The body of a Painless merge after the shared helper functions; fails loudly if the merges change shape. */
function afterHelpers(source: string, merge: string): string {
  if (!source.startsWith(PAINLESS_HELPERS)) throw new Error(`${merge} Painless source no longer starts with PAINLESS_HELPERS`);
  return source.slice(PAINLESS_HELPERS.length);
}

/**
 * The two Painless merges in one script: Painless functions must precede statements, so the task script's functions
 * go first and each merge's statements run in their own block (their top-level variables then do not collide).
 */
function leekDocumentPainless(): string {
  const task = afterHelpers(TASK_MERGE_PAINLESS, 'task');
  const statementsAt = task.indexOf('\nList TERMINAL = ');
  if (statementsAt < 0) throw new Error('task Painless source: cannot find where its statements start');
  const worker = afterHelpers(WORKER_MERGE_PAINLESS, 'worker');
  return `${PAINLESS_HELPERS}${task.slice(0, statementsAt)}
if (!ctx._source.isEmpty() && ctx._source.get('kind') != params.incoming.get('kind')) {
  ctx.op = 'noop';
} else if (params.incoming.get('kind') == 'worker') {${worker}
} else {${task.slice(statementsAt)}
}
`;
}

export const leekDocumentMerge: MergeDefinition = { name: 'leek_document', js: mergeLeekDocument, painless: leekDocumentPainless() };

export const LEEK_EVENTS_SPEC: IndexSpec = {
  name: LEEK_EVENTS_INDEX,
  fields: { ...LEEK_EVENTS_FIELDS },
  hot: [...LEEK_EVENTS_HOT],
  idAliases: ['uuid'],
  merge: leekDocumentMerge.name,
};

export const LEEK_DEAD_LETTERS_SPEC: IndexSpec = {
  name: LEEK_DEAD_LETTERS_INDEX,
  fields: {
    // Position in its batch, the original document's id and kind when it had them, why it was refused.
    index: 'number',
    doc_id: 'keyword',
    kind: 'keyword',
    reason: 'text',
    app_env: 'keyword',
    received_at: 'date',
  },
  hot: ['received_at'],
};

/** Summary fields copied from the latest task document of the row (absent when the tasks never had them). */
export const LEEK_SUMMARY_DESCRIPTIVE = ['app_env', 'name', 'function', 'module', 'queue', 'exchange', 'routing_key'] as const;
/** Summary counters added up by the merge. */
export const LEEK_SUMMARY_COUNTERS = ['tasks', 'runtime_count', 'runtime_sum'] as const;

/**
 * Summary rows (leek-management-and-search §6, per task name): the descriptive keys of §6 (`.wc` sub-fields map to
 * these keyword fields), `last_seen` (max `updated_at`, ms), `tasks` (distinct tasks), `states.<STATE>` (tasks
 * currently in that state) and runtime statistics of the tasks that reported one.
 */
export const LEEK_SUMMARY_SPEC: IndexSpec = {
  name: LEEK_SUMMARY_INDEX,
  fields: {
    ...keywords(...LEEK_SUMMARY_DESCRIPTIVE),
    last_seen: 'number',
    tasks: 'number',
    ...Object.fromEntries(LEEK_SUMMARY_STATES.map((s) => [`states.${s}`, 'number' as const])),
    runtime_count: 'number',
    runtime_sum: 'number',
    runtime_min: 'number',
    runtime_max: 'number',
  },
  hot: ['app_env', 'name', 'last_seen'],
  merge: 'leek_summary',
};

type Fields = Record<string, unknown>;
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const isNum = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Adds a summary delta (same shape as a row, counters as differences) into the stored row: counters and per-state
 * counts add up, `last_seen` and `runtime_max` keep the maximum, `runtime_min` the minimum, descriptive keys the
 * latest present value. The first delta of a row is stored as it is.
 */
export function mergeSummaryRow(stored: Doc | undefined, incoming: Doc): Doc {
  if (stored === undefined || Object.keys(stored).length === 0) return { ...incoming };
  const doc: Fields = { ...stored };
  for (const field of LEEK_SUMMARY_DESCRIPTIVE) if (incoming[field] !== undefined && incoming[field] !== null) doc[field] = incoming[field];
  for (const field of LEEK_SUMMARY_COUNTERS) doc[field] = num(stored[field]) + num(incoming[field]);
  const states: Fields = isObject(stored.states) ? { ...stored.states } : {};
  if (isObject(incoming.states)) for (const [state, n] of Object.entries(incoming.states)) states[state] = num(states[state]) + num(n);
  doc.states = states;
  for (const [field, pick] of [
    ['last_seen', Math.max],
    ['runtime_max', Math.max],
    ['runtime_min', Math.min],
  ] as const) {
    const a = stored[field];
    const b = incoming[field];
    if (isNum(b)) doc[field] = isNum(a) ? pick(a, b) : b;
  }
  return doc as Doc;
}

const painlessList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

const SUMMARY_PAINLESS = `
Map s = ctx._source;
Map c = params.incoming;
if (s.isEmpty()) {
  s.putAll(c);
} else {
  for (def f : ${painlessList(LEEK_SUMMARY_DESCRIPTIVE)}) { def v = c.get(f); if (v != null) { s.put(f, v); } }
  for (def f : ${painlessList(LEEK_SUMMARY_COUNTERS)}) {
    def a = s.get(f); def b = c.get(f);
    double sum = (a instanceof Number ? ((Number) a).doubleValue() : 0.0) + (b instanceof Number ? ((Number) b).doubleValue() : 0.0);
    if (f == 'runtime_sum') { s.put(f, sum); } else { s.put(f, (long) sum); }
  }
  Map states = s.get('states') instanceof Map ? new HashMap((Map) s.get('states')) : new HashMap();
  if (c.get('states') instanceof Map) {
    for (def e : ((Map) c.get('states')).entrySet()) {
      def a = states.get(e.getKey());
      long n = (a instanceof Number ? ((Number) a).longValue() : 0L) + (e.getValue() instanceof Number ? ((Number) e.getValue()).longValue() : 0L);
      states.put(e.getKey(), n);
    }
  }
  s.put('states', states);
  for (def f : ['last_seen', 'runtime_max', 'runtime_min']) {
    def a = s.get(f); def b = c.get(f);
    if (b instanceof Number) {
      if (!(a instanceof Number)) { s.put(f, b); }
      else if (f == 'runtime_min') { if (((Number) b).doubleValue() < ((Number) a).doubleValue()) { s.put(f, b); } }
      else if (((Number) b).doubleValue() > ((Number) a).doubleValue()) { s.put(f, b); }
    }
  }
}
`;

export const leekSummaryMerge: MergeDefinition = { name: 'leek_summary', js: mergeSummaryRow, painless: SUMMARY_PAINLESS };

/** The indexes an application owns (each scoped by `leekScope(org, app)`). */
export const LEEK_INDEX_SPECS: readonly IndexSpec[] = [LEEK_EVENTS_SPEC, LEEK_DEAD_LETTERS_SPEC, LEEK_SUMMARY_SPEC];

/** Outbox entries: `{id, created_at, notification}`, relayed oldest first. */
export const LEEK_OUTBOX_SPEC: IndexSpec = { name: LEEK_OUTBOX_INDEX, fields: { created_at: 'date' }, hot: ['created_at'] };

/** Registers the merges and ensures the indexes and the outbox; every service touching task-monitor data calls it at startup. */
export async function ensureLeekIndexes(store: Store): Promise<void> {
  store.registerMerge(leekDocumentMerge);
  store.registerMerge(leekSummaryMerge);
  for (const spec of [...LEEK_INDEX_SPECS, LEEK_OUTBOX_SPEC]) await store.indexes.ensure(spec);
}
