/** Name, scope and id checks shared by both engines: everything that reaches SQL identifiers or index names passes here. */
import { invalid } from './errors.js';

/** Collection, index and merge names. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
export const NAME_MAX_LENGTH = 64;
export const SCOPE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;
/** Field paths: dot-separated identifiers (`state`, `meta.host`); stricter than `^[A-Za-z_][A-Za-z0-9_.]*$` (no empty segment). */
export const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
export const FIELD_MAX_LENGTH = 200;
/** Top-level field names of collection records (list `where` and sort). */
export const TOP_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Elasticsearch's limit on `_id`, applied to both engines so records move between them. */
export const ID_MAX_BYTES = 512;

export function checkName(kind: 'collection' | 'index' | 'merge', name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name.length > NAME_MAX_LENGTH) {
    throw invalid(
      `${kind} name ${JSON.stringify(name)} is invalid: use lowercase letters, digits and '_', starting with a letter, at most ${NAME_MAX_LENGTH} characters`,
    );
  }
  return name;
}

/** Scopes are '' (unscoped) or match SCOPE_PATTERN. */
export function checkScope(scope: unknown): string {
  if (typeof scope !== 'string' || (scope !== '' && !SCOPE_PATTERN.test(scope))) {
    throw invalid(
      `scope ${JSON.stringify(scope)} is invalid: use '' or lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 100 characters`,
    );
  }
  return scope;
}

export function checkId(id: unknown, what = 'document'): string {
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > ID_MAX_BYTES) {
    throw invalid(`${what} id ${JSON.stringify(id)} is invalid: it must be a non-empty string of at most ${ID_MAX_BYTES} bytes`);
  }
  return id;
}

export function isFieldPath(field: unknown): field is string {
  return typeof field === 'string' && field.length <= FIELD_MAX_LENGTH && FIELD_PATTERN.test(field);
}

export function checkTopField(field: unknown): string {
  if (typeof field !== 'string' || !TOP_FIELD_PATTERN.test(field) || field.length > FIELD_MAX_LENGTH) {
    throw invalid(`field ${JSON.stringify(field)} is invalid: use a top-level field name (letters, digits and '_')`);
  }
  return field;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path of a document, or undefined. */
export function getPath(doc: Record<string, unknown>, path: string): unknown {
  let value: unknown = doc;
  for (const segment of path.split('.')) {
    if (!isPlainObject(value)) return undefined;
    value = value[segment];
  }
  return value;
}
