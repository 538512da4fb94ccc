/**
 * The store-side merge of Leek worker documents (leek-merge-rules §4): a pure JS function for sqlite and the same
 * algorithm as a Painless script for Elasticsearch. Redelivery is harmless, as for tasks (see `isStale`).
 */
import type { Doc, MergeDefinition } from '../types.js';
import { PAINLESS_HELPERS, countOf, isStale, lookup, painlessMap, painlessStringMap, presentFields } from './task-merge.js';

/** §2 W[state]: the fields a late event of that state may set (state and timestamps stay). */
export const WORKER_STATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ONLINE: ['online_at'],
  HEARTBEAT: ['last_heartbeat_at', 'processed', 'active', 'freq', 'loadavg'],
  OFFLINE: ['offline_at'],
};

/** The per-state timestamp (ms) of each worker state, which identifies the event (see `isStale`). */
export const WORKER_EVENT_TIME_FIELDS: Readonly<Record<string, string>> = {
  ONLINE: 'online_at',
  HEARTBEAT: 'last_heartbeat_at',
  OFFLINE: 'offline_at',
};

type Fields = Record<string, unknown>;

/**
 * Merges an incoming worker document into the stored one (§4: W0–W3, then the counter). No terminal state, no
 * `events` list, no custom states. Returns undefined to leave the stored document untouched (skip). Pure.
 */
export function mergeWorkerDocument(stored: Doc | undefined, incoming: Doc): Doc | undefined {
  const c = presentFields(incoming);

  // W0
  if (stored === undefined || Object.keys(stored).length === 0) {
    const doc: Fields = { ...c };
    return doc as Doc;
  }

  const doc: Fields = { ...stored };
  if (typeof stored.exact_timestamp === 'number' && typeof c.exact_timestamp === 'number' && stored.exact_timestamp < c.exact_timestamp) {
    // W1 — in order: copy-all (fields of other states, e.g. an old `offline_at`, are kept).
    Object.assign(doc, c);
  } else if (stored.state === c.state) {
    // W2
    return undefined;
  } else if (isStale(stored, c, WORKER_EVENT_TIME_FIELDS)) {
    // Redelivery: the stored document already holds this state's event, or a later one (deviation, see isStale).
    return undefined;
  } else {
    // W3 — e.g. a late heartbeat refreshes `processed` on an OFFLINE worker, possibly to a lower value.
    for (const field of lookup(WORKER_STATE_FIELDS, c.state) ?? []) if (c[field] !== undefined) doc[field] = c[field];
  }
  doc.events_count = countOf(stored.events_count) + countOf(c.events_count);
  return doc as Doc;
}

/** The same algorithm in Painless, for Elasticsearch scripted upserts; sets `ctx.op = 'noop'` on skip. */
export const WORKER_MERGE_PAINLESS = `${PAINLESS_HELPERS}
Map W = ${painlessMap(WORKER_STATE_FIELDS)};
Map TIME = ${painlessStringMap(WORKER_EVENT_TIME_FIELDS)};

Map s = ctx._source;
Map c = params.incoming;

if (s.isEmpty()) {
  copyAll(s, c);
} else {
  def beforeCount = s.get('events_count');
  boolean skip = false;
  if (inOrder(s, c)) {
    copyAll(s, c);
  } else if (s.get('state') == c.get('state')) {
    skip = true;
  } else if (isStale(s, c, TIME)) {
    skip = true;
  } else if (W.get(c.get('state')) != null) {
    copyFields(s, c, (List) W.get(c.get('state')));
  }
  if (skip) {
    ctx.op = 'noop';
  } else {
    s.put('events_count', countOf(beforeCount) + countOf(c.get('events_count')));
  }
}
`;

export const workerMerge: MergeDefinition = { name: 'leek_worker', js: mergeWorkerDocument, painless: WORKER_MERGE_PAINLESS };
