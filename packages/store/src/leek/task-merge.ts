/**
 * The store-side merge of Leek task documents (leek-merge-rules §3): a pure JS function for sqlite and the same
 * algorithm as a Painless script for Elasticsearch. One deliberate deviation from the rules: redelivery is harmless
 * (see `isStale`).
 */
import { TASK_STATE_TIMESTAMP_FIELDS, TERMINAL_TASK_STATES } from '@shallot/schemas';
import type { Doc, MergeDefinition } from '../types.js';

/** Finished tasks; a terminal incoming document always wins, a non-terminal one never changes a terminal state. */
export const TASK_TERMINAL_STATES: readonly string[] = [...TERMINAL_TASK_STATES];

/** §2 INPUT: sent only by QUEUED and RECEIVED. */
export const TASK_INPUT_FIELDS: readonly string[] = [
  'name',
  'name_parts',
  'args',
  'kwargs',
  'root_id',
  'parent_id',
  'eta',
  'expires',
  'retries',
  ...Array.from({ length: 10 }, (_, i) => `args_${i}`),
  'kwargs_flattened',
];

/** §2 ERROR: sent by FAILED and RETRY. */
export const TASK_ERROR_FIELDS: readonly string[] = ['exception', 'traceback', 'lang', 'error', 'stack', 'trace'];

/** §2 G[state]: the fields that belong to one state, copied when a late event of that state arrives. */
export const TASK_STATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  QUEUED: ['queued_at', 'exchange', 'routing_key', 'queue', 'client'],
  RECEIVED: ['received_at'],
  STARTED: ['started_at'],
  RETRY: ['retried_at'],
  SUCCEEDED: ['succeeded_at', 'result', 'runtime'],
  FAILED: ['failed_at'],
  REJECTED: ['rejected_at', 'requeue'],
  REVOKED: ['revoked_at', 'terminated', 'expired', 'signum'],
};

/** §3 P4: the `events` history keeps this many states, newest first. */
export const MAX_TASK_EVENTS = 21;

/**
 * The per-state timestamp (ms) that identifies the event a document carries for its state (protocol §6.4: the agent
 * sets it to `floor(exact_timestamp × 1000)`); the derived states use the event they were derived from.
 */
export const TASK_EVENT_TIME_FIELDS: Readonly<Record<string, string>> = {
  ...TASK_STATE_TIMESTAMP_FIELDS,
  RECOVERED: 'succeeded_at',
  CRITICAL: 'failed_at',
};

type Fields = Record<string, unknown>;

export const isPresent = (value: unknown): boolean => value !== undefined && value !== null;

/** A document's fields without null/undefined values: absent and null mean the same (§0). */
export function presentFields(doc: Fields): Fields {
  const out: Fields = {};
  // Object.keys, not Object.entries: this runs for every ingested document, and entries allocate a pair per field.
  for (const field of Object.keys(doc)) {
    const value = doc[field];
    if (isPresent(value)) out[field] = value;
  }
  return out;
}

/** Whole-number counters; anything else counts 0. */
export const countOf = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0);

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** `map[key]` for own keys only: a state such as "constructor" must not reach Object.prototype. */
export const lookup = <T>(map: Readonly<Record<string, T>>, key: unknown): T | undefined =>
  typeof key === 'string' && Object.hasOwn(map, key) ? map[key] : undefined;

/** copy-all (§0): every present field of C. */
function copyAll(doc: Fields, incoming: Fields): void {
  for (const field of Object.keys(incoming)) doc[field] = incoming[field];
}

/** copy(f) for every f of U present in C. */
function copyFields(doc: Fields, incoming: Fields, fields: readonly string[]): void {
  for (const field of fields) if (isPresent(incoming[field])) doc[field] = incoming[field];
}

const isTerminal = (state: unknown): boolean => typeof state === 'string' && TASK_TERMINAL_STATES.includes(state);
const stateFields = (state: unknown): readonly string[] => lookup(TASK_STATE_FIELDS, state) ?? [];
const hasEvent = (incoming: Fields, state: string): boolean => Array.isArray(incoming.events) && incoming.events.includes(state);
const inOrder = (stored: Fields, incoming: Fields): boolean =>
  typeof stored.exact_timestamp === 'number' &&
  typeof incoming.exact_timestamp === 'number' &&
  stored.exact_timestamp < incoming.exact_timestamp;

/**
 * Redelivery (deviation from §7 "Redelivery: parity"): an incoming document is stale when the stored one already
 * holds an event of the incoming state at the same time or later (`S[<state>_at] >= C[<state>_at]`). A stale document
 * is skipped like R3b: merging a document again, at any later point, changes nothing, not even the counters. Checked
 * in R1, R2 and R3c (W3 for workers), i.e. everywhere but in-order merges, which are never stale. The incoming time is
 * its per-state field, else `floor(exact_timestamp × 1000)`. The same check also skips a first-time event older than
 * one already recorded for its state (a retry cycle's old RECEIVED after the new one), which the rules would let
 * overwrite the newer event's fields; R3b already skips such events when the task is in that state.
 */
export function isStale(stored: Fields, incoming: Fields, timeFields: Readonly<Record<string, string>> = TASK_EVENT_TIME_FIELDS): boolean {
  const field = lookup(timeFields, incoming.state);
  if (field === undefined) return false;
  const storedTime = stored[field];
  const ownTime =
    typeof incoming[field] === 'number'
      ? incoming[field]
      : typeof incoming.exact_timestamp === 'number'
        ? Math.floor(incoming.exact_timestamp * 1000)
        : undefined;
  return typeof storedTime === 'number' && typeof ownTime === 'number' && storedTime >= ownTime;
}

/** R2: the fields a late non-terminal document may set on a finished task. */
function lateEventFields(storedState: unknown, incoming: Fields): string[] {
  const state = incoming.state;
  const fields = [...stateFields(state)];
  if (state !== 'QUEUED' && hasEvent(incoming, 'QUEUED')) fields.push(...stateFields('QUEUED'));
  if (state !== 'RECEIVED' && hasEvent(incoming, 'RECEIVED')) fields.push(...stateFields('RECEIVED'));
  if (state === 'RETRY') {
    // A failure's own error details are never overwritten by a late retry.
    if (storedState !== 'FAILED' && storedState !== 'CRITICAL') fields.push(...TASK_ERROR_FIELDS);
  } else if (state === 'QUEUED' || state === 'RECEIVED') fields.push(...TASK_INPUT_FIELDS);
  else if (hasEvent(incoming, 'QUEUED') || hasEvent(incoming, 'RECEIVED')) fields.push(...TASK_INPUT_FIELDS);
  return fields;
}

/** R3c: the fields an out-of-order document of another state may set on an unfinished task. */
function outOfOrderFields(storedState: unknown, incoming: Fields): string[] {
  const state = incoming.state;
  const fields = [...stateFields(state)];
  if (state === 'RETRY') fields.push(...TASK_ERROR_FIELDS);
  else if ((state === 'QUEUED' || state === 'RECEIVED') && storedState !== 'QUEUED' && storedState !== 'RECEIVED')
    fields.push(...TASK_INPUT_FIELDS);
  return fields;
}

/** P1 custom states and P2 self-reference fix, on the merged document. */
function postSteps(doc: Fields): void {
  if (typeof doc.retries === 'number' && doc.retries > 0) {
    if (doc.state === 'FAILED') doc.state = 'CRITICAL';
    else if (doc.state === 'SUCCEEDED') doc.state = 'RECOVERED';
  }
  if (isPresent(doc.uuid)) {
    if (doc.root_id === doc.uuid) delete doc.root_id;
    if (doc.parent_id === doc.uuid) delete doc.parent_id;
  }
}

/**
 * Merges an incoming task document into the stored one (leek-merge-rules §3, first matching rule then the
 * post-steps). Returns the document to store, or undefined to leave the stored one untouched (skip). Pure: neither
 * argument is modified.
 */
export function mergeTaskDocument(stored: Doc | undefined, incoming: Doc): Doc | undefined {
  const c = presentFields(incoming);

  // R0 — first write: C as it is, then P1 and P2 only.
  if (stored === undefined || Object.keys(stored).length === 0) {
    const doc: Fields = { ...c };
    if (Array.isArray(c.events)) doc.events = c.events.slice(0, MAX_TASK_EVENTS);
    postSteps(doc);
    return doc as Doc;
  }

  const doc: Fields = { ...stored };
  if (isTerminal(c.state)) {
    // R1 — terminal incoming: always wins, timestamps not compared (except the redelivery check).
    if (isStale(stored, c)) return undefined;
    copyAll(doc, c);
  } else if (isTerminal(stored.state)) {
    // R2 — late event on a finished task: state kept.
    if (isStale(stored, c)) return undefined;
    copyFields(doc, c, lateEventFields(stored.state, c));
  } else if (inOrder(stored, c)) {
    // R3a
    copyAll(doc, c);
  } else if (stored.state === c.state) {
    // R3b
    return undefined;
  } else {
    // R3c — state, timestamps and worker stay.
    if (isStale(stored, c)) return undefined;
    copyFields(doc, c, outOfOrderFields(stored.state, c));
  }

  postSteps(doc);
  // P3, P4
  doc.events_count = countOf(stored.events_count) + countOf(c.events_count);
  doc.events = [...listOf(c.events), ...listOf(stored.events)].slice(0, MAX_TASK_EVENTS);
  return doc as Doc;
}

/** A Painless literal for a string list. */
export const painlessList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

/** A Painless literal for a map of strings. */
export const painlessStringMap = (map: Readonly<Record<string, string>>): string =>
  `[${Object.entries(map)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}]`;

/** A Painless literal for a map of string lists. */
export const painlessMap = (map: Readonly<Record<string, readonly string[]>>): string =>
  `[${Object.entries(map)
    .map(([k, v]) => `${JSON.stringify(k)}: ${painlessList(v)}`)
    .join(', ')}]`;

/** Functions both Painless merges use; Painless functions see only their arguments, so constants are passed in. */
export const PAINLESS_HELPERS = `
boolean isNum(def v) { return v instanceof Number; }
double num(def v) { return ((Number) v).doubleValue(); }
long countOf(def v) { return v instanceof Number ? ((Number) v).longValue() : 0L; }
void copyAll(Map s, Map c) {
  for (def field : c.keySet()) { def v = c.get(field); if (v != null) { s.put(field, v); } }
}
void copyFields(Map s, Map c, List fields) {
  for (def field : fields) { def v = c.get(field); if (v != null) { s.put(field, v); } }
}
boolean inOrder(Map s, Map c) {
  def st = s.get('exact_timestamp');
  def ct = c.get('exact_timestamp');
  return isNum(st) && isNum(ct) && num(st) < num(ct);
}
boolean isStale(Map s, Map c, Map timeFields) {
  def field = timeFields.get(c.get('state'));
  if (field == null) { return false; }
  def storedTime = s.get(field);
  def ownTime = c.get(field);
  if (!isNum(ownTime) && isNum(c.get('exact_timestamp'))) { ownTime = Math.floor(num(c.get('exact_timestamp')) * 1000.0); }
  return isNum(storedTime) && isNum(ownTime) && num(storedTime) >= num(ownTime);
}
`;

/**
 * The same algorithm in Painless, for Elasticsearch scripted upserts (`scripted_upsert: true`, so `ctx._source` is
 * empty on first write). Receives `params.incoming`; sets `ctx.op = 'noop'` on skip.
 */
export const TASK_MERGE_PAINLESS = `${PAINLESS_HELPERS}
boolean hasEvent(Map c, String state) {
  def events = c.get('events');
  return events instanceof List && ((List) events).contains(state);
}
void postSteps(Map s) {
  def retries = s.get('retries');
  if (retries instanceof Number && ((Number) retries).doubleValue() > 0) {
    if (s.get('state') == 'FAILED') { s.put('state', 'CRITICAL'); }
    else if (s.get('state') == 'SUCCEEDED') { s.put('state', 'RECOVERED'); }
  }
  def uuid = s.get('uuid');
  if (uuid != null) {
    if (s.get('root_id') == uuid) { s.remove('root_id'); }
    if (s.get('parent_id') == uuid) { s.remove('parent_id'); }
  }
}

List TERMINAL = ${painlessList(TASK_TERMINAL_STATES)};
Map G = ${painlessMap(TASK_STATE_FIELDS)};
Map TIME = ${painlessStringMap(TASK_EVENT_TIME_FIELDS)};
List INPUT = ${painlessList(TASK_INPUT_FIELDS)};
List ERROR = ${painlessList(TASK_ERROR_FIELDS)};
int MAX_EVENTS = ${MAX_TASK_EVENTS};

Map s = ctx._source;
Map c = params.incoming;

if (s.isEmpty()) {
  copyAll(s, c);
  def events = s.get('events');
  if (events instanceof List && ((List) events).size() > MAX_EVENTS) { s.put('events', new ArrayList(((List) events).subList(0, MAX_EVENTS))); }
  postSteps(s);
} else {
  def sState = s.get('state');
  def cState = c.get('state');
  def beforeEvents = s.get('events');
  def beforeCount = s.get('events_count');
  boolean skip = false;
  if (TERMINAL.contains(cState)) {
    if (isStale(s, c, TIME)) { skip = true; } else { copyAll(s, c); }
  } else if (TERMINAL.contains(sState)) {
    if (isStale(s, c, TIME)) {
      skip = true;
    } else {
      List u = new ArrayList();
      if (G.get(cState) != null) { u.addAll((List) G.get(cState)); }
      if (cState != 'QUEUED' && hasEvent(c, 'QUEUED')) { u.addAll((List) G.get('QUEUED')); }
      if (cState != 'RECEIVED' && hasEvent(c, 'RECEIVED')) { u.addAll((List) G.get('RECEIVED')); }
      if (cState == 'RETRY') {
        if (sState != 'FAILED' && sState != 'CRITICAL') { u.addAll(ERROR); }
      } else if (cState == 'QUEUED' || cState == 'RECEIVED') {
        u.addAll(INPUT);
      } else if (hasEvent(c, 'QUEUED') || hasEvent(c, 'RECEIVED')) {
        u.addAll(INPUT);
      }
      copyFields(s, c, u);
    }
  } else if (inOrder(s, c)) {
    copyAll(s, c);
  } else if (sState == cState) {
    skip = true;
  } else if (isStale(s, c, TIME)) {
    skip = true;
  } else {
    List u = new ArrayList();
    if (G.get(cState) != null) { u.addAll((List) G.get(cState)); }
    if (cState == 'RETRY') {
      u.addAll(ERROR);
    } else if ((cState == 'QUEUED' || cState == 'RECEIVED') && sState != 'QUEUED' && sState != 'RECEIVED') {
      u.addAll(INPUT);
    }
    copyFields(s, c, u);
  }
  if (skip) {
    ctx.op = 'noop';
  } else {
    postSteps(s);
    s.put('events_count', countOf(beforeCount) + countOf(c.get('events_count')));
    List events = new ArrayList();
    if (c.get('events') instanceof List) { events.addAll((List) c.get('events')); }
    if (beforeEvents instanceof List) { events.addAll((List) beforeEvents); }
    if (events.size() > MAX_EVENTS) { events = new ArrayList(events.subList(0, MAX_EVENTS)); }
    s.put('events', events);
  }
}
`;

export const taskMerge: MergeDefinition = { name: 'leek_task', js: mergeTaskDocument, painless: TASK_MERGE_PAINLESS };
