/**
 * The per-task-name summary (leek-management-and-search §6), maintained from the transitions of one ingest write:
 * each changed task moves its contribution (one task, in one state, with or without a runtime) from its previous row
 * to its current one. Unchanged documents contribute nothing, so redelivery never counts twice.
 */
import { createHash } from 'node:crypto';
import type { BulkOutcome, Doc } from '@shallot/store';

interface Contribution {
  row: string;
  state: string;
  runtime: number | undefined;
}

interface Delta {
  id: string;
  tasks: number;
  states: Record<string, number>;
  runtime_count: number;
  runtime_sum: number;
  fields: Record<string, unknown>;
}

/** Row ids already computed: an app has few (environment, task name) pairs, and every document needs its row. */
const rowIds = new Map<string, string>();
/** @default how many row ids are remembered before the memo starts over */
const ROW_ID_MEMO_SIZE = 10_000;

/** Rows are keyed by (app_env, name); tasks seen without a name share their environment's unnamed row. */
export function summaryRowId(appEnv: unknown, name: unknown): string {
  const key = JSON.stringify([typeof appEnv === 'string' ? appEnv : null, typeof name === 'string' ? name : null]);
  let id = rowIds.get(key);
  if (id === undefined) {
    id = createHash('sha1').update(key).digest('hex');
    if (rowIds.size >= ROW_ID_MEMO_SIZE) rowIds.clear();
    rowIds.set(key, id);
  }
  return id;
}

function contribution(doc: Doc | undefined): Contribution | undefined {
  if (doc === undefined || doc.kind !== 'task' || typeof doc.state !== 'string') return undefined;
  return {
    row: summaryRowId(doc.app_env, doc.name),
    state: doc.state,
    runtime: typeof doc.runtime === 'number' && Number.isFinite(doc.runtime) ? doc.runtime : undefined,
  };
}

const present = (value: unknown): boolean => value !== undefined && value !== null;

/** The row fields a task document describes: environment, name, module/function, routing, last seen. */
function describe(doc: Doc): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (typeof doc.app_env === 'string') fields.app_env = doc.app_env;
  if (typeof doc.name === 'string') {
    fields.name = doc.name;
    const parts = doc.name_parts as { module?: unknown; function?: unknown } | undefined;
    const dot = doc.name.lastIndexOf('.');
    fields.module = typeof parts?.module === 'string' ? parts.module : dot < 0 ? '' : doc.name.slice(0, dot);
    fields.function = typeof parts?.function === 'string' ? parts.function : doc.name.slice(dot + 1);
  }
  // `exchange` may be "" (the default exchange): present, unlike a missing one.
  for (const field of ['queue', 'exchange', 'routing_key']) if (present(doc[field])) fields[field] = doc[field];
  if (typeof doc.updated_at === 'number') fields.last_seen = doc.updated_at;
  return fields;
}

/** Summary delta documents (for the `leek_summary` merge) from the outcomes of one bulk write. */
export function summaryDeltas(outcomes: readonly BulkOutcome[]): Doc[] {
  const deltas = new Map<string, Delta & { runtime_min?: number; runtime_max?: number }>();
  const deltaOf = (row: string) => {
    let delta = deltas.get(row);
    if (delta === undefined) {
      delta = { id: row, tasks: 0, states: {}, runtime_count: 0, runtime_sum: 0, fields: {} };
      deltas.set(row, delta);
    }
    return delta;
  };
  for (const outcome of outcomes) {
    if (!outcome.changed) continue;
    const before = contribution(outcome.previous);
    const after = contribution(outcome.current);
    if (after === undefined || outcome.current === undefined) continue;
    if (before !== undefined) {
      const delta = deltaOf(before.row);
      delta.tasks -= 1;
      delta.states[before.state] = (delta.states[before.state] ?? 0) - 1;
      if (before.runtime !== undefined) {
        delta.runtime_count -= 1;
        delta.runtime_sum -= before.runtime;
      }
    }
    const delta = deltaOf(after.row);
    delta.tasks += 1;
    delta.states[after.state] = (delta.states[after.state] ?? 0) + 1;
    if (after.runtime !== undefined) {
      delta.runtime_count += 1;
      delta.runtime_sum += after.runtime;
      delta.runtime_min = Math.min(delta.runtime_min ?? after.runtime, after.runtime);
      delta.runtime_max = Math.max(delta.runtime_max ?? after.runtime, after.runtime);
    }
    const fields = describe(outcome.current);
    const lastSeen = delta.fields.last_seen;
    if (typeof lastSeen === 'number' && typeof fields.last_seen === 'number' && lastSeen > fields.last_seen) fields.last_seen = lastSeen;
    Object.assign(delta.fields, fields);
  }
  const docs: Doc[] = [];
  for (const delta of deltas.values()) {
    const states: Record<string, number> = {};
    for (const [state, n] of Object.entries(delta.states)) if (n !== 0) states[state] = n;
    const doc: Doc = {
      id: delta.id,
      ...delta.fields,
      tasks: delta.tasks,
      states,
      runtime_count: delta.runtime_count,
      runtime_sum: delta.runtime_sum,
    };
    if (delta.runtime_min !== undefined) doc.runtime_min = delta.runtime_min;
    if (delta.runtime_max !== undefined) doc.runtime_max = delta.runtime_max;
    docs.push(doc);
  }
  return docs;
}
