/**
 * Validation of an ingest batch (leek-agent-protocol §7, §8): each element is checked against the task or worker
 * schema with compiled checkers, plus the identity rule (`id` = `uuid` for tasks, `hostname` for workers). Valid
 * elements go on to the merge; refused ones become dead letters with their reason.
 */
import { TaskDocument, WorkerDocument } from '@shallot/schemas';
import type { Doc } from '@shallot/store';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const checkTask = TypeCompiler.Compile(TaskDocument);
const checkWorker = TypeCompiler.Compile(WorkerDocument);

/** The store's limit on ids (Elasticsearch `_id`), checked here so one long id never fails a whole batch. */
const ID_MAX_BYTES = 512;

export interface Refusal {
  /** Position in the batch. */
  index: number;
  id?: string;
  kind?: string;
  reason: string;
  /** The element as received. */
  document: unknown;
}

export interface CheckedBatch {
  valid: Doc[];
  refused: Refusal[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deeper elements are refused before any recursive step (schema check, clone, JSON, SQLite's 1000-level limit). */
export const MAX_ELEMENT_DEPTH = 32;
/** Values (objects, arrays, scalars) one element may hold. */
export const MAX_ELEMENT_VALUES = 20_000;
/** Characters of keys and strings one element may hold. */
export const MAX_ELEMENT_CHARS = 8 * 1024 * 1024;

/** Why an element is too deep or too large, found without recursion (an explicit stack), or undefined. */
export function shapeRefusal(element: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[element, 0]];
  let values = 0;
  let chars = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (++values > MAX_ELEMENT_VALUES) return `the document holds more than ${MAX_ELEMENT_VALUES} values`;
    if (typeof value === 'string') chars += value.length;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_ELEMENT_DEPTH) return `the document nests deeper than ${MAX_ELEMENT_DEPTH} levels`;
    if (Array.isArray(value)) for (const item of value) stack.push([item, depth + 1]);
    else
      for (const [key, item] of Object.entries(value)) {
        chars += key.length;
        stack.push([item, depth + 1]);
      }
    if (chars > MAX_ELEMENT_CHARS) return `the document holds more than ${MAX_ELEMENT_CHARS} characters`;
  }
  return undefined;
}

/** How much of a refused oversized element its dead letter keeps. */
const KEEP_DEPTH = 4;
const KEEP_ENTRIES = 50;
const KEEP_CHARS = 1000;

/**
 * A bounded copy of an element for its dead letter: KEEP_DEPTH levels, KEEP_ENTRIES entries per object or array,
 * KEEP_CHARS characters per string; what is cut says so. Recursion is bounded by KEEP_DEPTH.
 */
export function truncated(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > KEEP_CHARS ? `${value.slice(0, KEEP_CHARS)}…[truncated]` : value;
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= KEEP_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.slice(0, KEEP_ENTRIES).map((item) => truncated(item, depth + 1));
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (kept++ >= KEEP_ENTRIES) {
      out['…'] = '[truncated]';
      break;
    }
    Object.defineProperty(out, key.slice(0, KEEP_CHARS), {
      value: truncated((value as Record<string, unknown>)[key], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Why a document is refused, or undefined when it is valid. */
export function refusalReason(element: unknown): string | undefined {
  if (!isObject(element)) return 'a document must be a JSON object';
  const shape = shapeRefusal(element);
  if (shape !== undefined) return shape;
  const { kind } = element;
  const check = kind === 'task' ? checkTask : kind === 'worker' ? checkWorker : undefined;
  if (check === undefined) return 'kind must be "task" or "worker"';
  if (!check.Check(element)) {
    const first = check.Errors(element).First();
    return `${first?.path || '/'}: ${first?.message ?? 'invalid'}`;
  }
  const fields: Record<string, unknown> = element;
  const id = fields.id as string;
  if (Buffer.byteLength(id) > ID_MAX_BYTES) return `/id: longer than ${ID_MAX_BYTES} bytes`;
  const identity = kind === 'task' ? 'uuid' : 'hostname';
  if (fields[identity] !== id) return `/id: must equal ${identity}`;
  return undefined;
}

/** Splits a batch into the documents to merge and the refused elements, keeping batch positions. */
export function checkBatch(batch: readonly unknown[]): CheckedBatch {
  const valid: Doc[] = [];
  const refused: Refusal[] = [];
  batch.forEach((element, index) => {
    const reason = refusalReason(element);
    if (reason === undefined) {
      valid.push(element as Doc);
      return;
    }
    // A dead letter keeps a bounded copy: the element may be what broke the limits.
    const refusal: Refusal = { index, reason, document: truncated(element) };
    if (isObject(element)) {
      if (typeof element.id === 'string') refusal.id = element.id.slice(0, 1024);
      if (typeof element.kind === 'string') refusal.kind = element.kind.slice(0, 64);
    }
    refused.push(refusal);
  });
  return { valid, refused };
}
