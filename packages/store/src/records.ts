/** Collection-record bookkeeping shared by both engines: revision, created and modified (Unix epoch seconds). */
import { invalid } from './errors.js';
import type { CollectionRecord, Doc, ListOptions } from './types.js';
import { checkId, checkName, checkTopField, isPlainObject } from './validate.js';

/** Fields the store manages; callers cannot write them through create/update/patchMany. */
export const BOOKKEEPING_FIELDS: ReadonlySet<string> = new Set(['id', 'revision', 'created', 'modified']);
/** @default limit of one list page */
export const DEFAULT_LIST_LIMIT = 1000;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The record's own fields, without bookkeeping. */
export function ownFields(record: Record<string, unknown>, what: string): Record<string, unknown> {
  if (!isPlainObject(record)) throw invalid(`${what} must be an object`);
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!BOOKKEEPING_FIELDS.has(key) && value !== undefined) own[key] = value;
  return own;
}

export function toRecord(
  fields: Record<string, unknown>,
  meta: { id: string; revision: number; created: number; modified: number },
): CollectionRecord {
  return { ...fields, id: meta.id, revision: meta.revision, created: meta.created, modified: meta.modified };
}

export function checkCreate(collection: string, record: Doc): { id: string; fields: Record<string, unknown> } {
  checkName('collection', collection);
  if (!isPlainObject(record)) throw invalid('record must be an object');
  return { id: checkId(record.id, 'record'), fields: ownFields(record, 'record') };
}

export function checkListOptions(collection: string, options: ListOptions | undefined): void {
  checkName('collection', collection);
  for (const [field, value] of Object.entries(options?.where ?? {})) {
    checkTopField(field);
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw invalid(`where.${field} must be a string, number or boolean`);
  }
}
