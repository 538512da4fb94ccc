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

/** Why a document is refused, or undefined when it is valid. */
export function refusalReason(element: unknown): string | undefined {
  if (!isObject(element)) return 'a document must be a JSON object';
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
    const refusal: Refusal = { index, reason, document: element };
    if (isObject(element)) {
      if (typeof element.id === 'string') refusal.id = element.id;
      if (typeof element.kind === 'string') refusal.kind = element.kind;
    }
    refused.push(refusal);
  });
  return { valid, refused };
}
