/** An IndexSpec checked and resolved once: field types (with the implicit `id`), hot columns, full-text columns. */
import { invalid } from './errors.js';
import type { FieldType, IndexSpec } from './types.js';
import { FIELD_MAX_LENGTH, checkName, isFieldPath } from './validate.js';

const FIELD_TYPES: ReadonlySet<string> = new Set<FieldType>(['keyword', 'text', 'number', 'date', 'boolean', 'flattened']);
/** `c` would collide with collection indices (`<prefix>c-<collection>`) on Elasticsearch. */
const RESERVED_INDEX_NAMES: ReadonlySet<string> = new Set(['c']);

export interface ResolvedSpec {
  readonly spec: IndexSpec;
  readonly name: string;
  /** Declared fields plus `id` (keyword). */
  readonly fields: ReadonlyMap<string, FieldType>;
  /** Hot field -> sqlite column name. */
  readonly hot: ReadonlyMap<string, string>;
  /** Text fields in declaration order -> FTS column name. */
  readonly text: ReadonlyMap<string, string>;
  /** Flattened fields: `<field>.<key>` paths below them are keys, not declared fields. */
  readonly flattened: ReadonlySet<string>;
  readonly merge: string | undefined;
}

/** `meta.host` -> `meta__host`; prefixed so no column can shadow scope/id/doc. */
const columnName = (prefix: string, field: string): string => `${prefix}${field.replaceAll('.', '__')}`;

export function resolveSpec(spec: IndexSpec): ResolvedSpec {
  const name = checkName('index', spec.name);
  if (RESERVED_INDEX_NAMES.has(name)) throw invalid(`index name "${name}" is reserved: choose another name`);
  if (spec.fields === null || typeof spec.fields !== 'object') throw invalid(`index "${name}": fields must be an object`);
  const fields = new Map<string, FieldType>([['id', 'keyword']]);
  for (const [field, type] of Object.entries(spec.fields)) {
    if (!isFieldPath(field)) {
      throw invalid(
        `index "${name}": field name "${field}" is invalid: use dot-separated identifiers, at most ${FIELD_MAX_LENGTH} characters`,
      );
    }
    if (!FIELD_TYPES.has(type)) throw invalid(`index "${name}": field "${field}" has unknown type "${String(type)}"`);
    if (field === 'id' && type !== 'keyword') throw invalid(`index "${name}": field "id" is always a keyword`);
    fields.set(field, type);
  }
  for (const field of fields.keys()) {
    // `a` as a value and `a.b` inside it cannot both be fields (Elasticsearch mappings forbid it too).
    const parent = field.split('.').slice(0, -1).join('.');
    if (parent !== '' && fields.has(parent))
      throw invalid(`index "${name}": field "${field}" is nested in field "${parent}"; declare one or the other`);
  }
  const hot = new Map<string, string>();
  const columns = new Set<string>();
  for (const field of spec.hot ?? []) {
    if (!fields.has(field)) throw invalid(`index "${name}": hot field "${field}" is not declared in fields`);
    if (field === 'id') continue;
    if (fields.get(field) === 'flattened') throw invalid(`index "${name}": hot field "${field}" is flattened and cannot be a column`);
    const column = columnName('h_', field);
    if (columns.has(column)) throw invalid(`index "${name}": hot fields collide on column "${column}"; rename one`);
    columns.add(column);
    hot.set(field, column);
  }
  const text = new Map<string, string>();
  for (const [field, type] of fields) if (type === 'text') text.set(field, columnName('t_', field));
  const flattened = new Set([...fields].filter(([, type]) => type === 'flattened').map(([field]) => field));
  if (spec.merge !== undefined) checkName('merge', spec.merge);
  return { spec, name, fields, hot, text, flattened, merge: spec.merge };
}

/** The type of a field used by a query, sort or aggregation; 'invalid' naming the field when it is not declared. */
export function fieldType(resolved: ResolvedSpec, field: unknown, usedBy: string): FieldType {
  if (!isFieldPath(field)) throw invalid(`${usedBy}: field name ${JSON.stringify(field)} is invalid: use dot-separated identifiers`);
  const type = resolved.fields.get(field) ?? (flattenedKey(resolved, field) === undefined ? undefined : 'keyword');
  if (type === undefined) {
    throw invalid(
      `${usedBy}: field "${field}" is not declared in index "${resolved.name}" (declared: ${[...resolved.fields.keys()].join(', ')})`,
    );
  }
  return type;
}

/** `kwargs.meta.source` below a flattened field `kwargs`: the root and the key (`meta.source`); undefined otherwise. */
export function flattenedKey(resolved: ResolvedSpec, field: string): { root: string; key: string } | undefined {
  for (const root of resolved.flattened) if (field.startsWith(`${root}.`)) return { root, key: field.slice(root.length + 1) };
  return undefined;
}
