/**
 * Compiles the query AST to parameterized SQLite SQL over one index table (`idx_<name>` as `t`).
 * Identifiers come only from a resolved IndexSpec; every value and JSON path is a bound parameter.
 */
import { dateBound, toEpochMs } from '../dates.js';
import { queryValue } from './values.js';

export { queryValue };
import { invalid, shown } from '../errors.js';
import { type ResolvedSpec, fieldType, flattenedKey } from '../spec.js';
import type { FieldType } from '../types.js';
import type { BoolQuery, Query, RangeValue, SortSpec, TermValue } from './ast.js';

export interface Sql {
  sql: string;
  params: unknown[];
}

export const sql = (text: string, ...params: unknown[]): Sql => ({ sql: text, params });
export const TRUE: Sql = sql('1');
export const FALSE: Sql = sql('0');

export function and(...parts: Sql[]): Sql {
  const kept = parts.filter((p) => p.sql !== '1');
  if (kept.length === 0) return TRUE;
  if (kept.some((p) => p.sql === '0')) return FALSE;
  if (kept.length === 1 && kept[0] !== undefined) return kept[0];
  return { sql: kept.map((p) => `(${p.sql})`).join(' AND '), params: kept.flatMap((p) => p.params) };
}

export function or(...parts: Sql[]): Sql {
  const kept = parts.filter((p) => p.sql !== '0');
  if (kept.length === 0) return FALSE;
  if (kept.some((p) => p.sql === '1')) return TRUE;
  if (kept.length === 1 && kept[0] !== undefined) return kept[0];
  return { sql: kept.map((p) => `(${p.sql})`).join(' OR '), params: kept.flatMap((p) => p.params) };
}

/** NOT that treats an unknown (NULL) comparison as false, so `must_not` keeps documents without the field. */
export const not = (part: Sql): Sql =>
  part.sql === '1' ? FALSE : part.sql === '0' ? TRUE : { sql: `NOT COALESCE((${part.sql}), 0)`, params: part.params };

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const tableName = (spec: ResolvedSpec): string => quoteIdent(`idx_${spec.name}`);
export const ftsTableName = (spec: ResolvedSpec): string => quoteIdent(`fts_${spec.name}`);
export const jsonPath = (field: string): string => `$.${field}`;

/**
 * How one field's values are reached: a hot column (one normalized value per document),
 * or the document JSON through json_each (each element of an array is a value).
 */
export type ValueSource =
  | { kind: 'column'; type: FieldType; column: string }
  /** `tree`: every scalar below the path (a flattened field's values) rather than the value or array elements at it. */
  | { kind: 'json'; type: FieldType; path: string; tree?: boolean };

/** The table-valued function walking a JSON source's values. */
export const jsonValues = (source: { tree?: boolean }): string => (source.tree === true ? 'json_tree' : 'json_each');

/** SQL normalizing a json_each row (`alias.type`, `alias.value`) to the form hot columns store. */
export function normalizedJson(alias: string, type: FieldType): string {
  switch (type) {
    case 'date':
      return `shallot_ms(${alias}.value)`;
    case 'number':
      return `(CASE WHEN ${alias}.type IN ('integer','real') THEN ${alias}.value END)`;
    case 'boolean':
      return `(CASE ${alias}.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'text' THEN (CASE ${alias}.value WHEN 'true' THEN 1 WHEN 'false' THEN 0 END) END)`;
    case 'keyword':
    case 'flattened':
      return `(CASE ${alias}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL WHEN 'array' THEN NULL WHEN 'object' THEN NULL ELSE CAST(${alias}.value AS TEXT) END)`;
    case 'text':
      return `(CASE WHEN ${alias}.type = 'text' THEN ${alias}.value END)`;
  }
}

/** A document value converted for a hot column; arrays and objects cannot be hot. */
export function hotValue(field: string, type: FieldType, value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') {
    throw invalid(
      `field "${field}" is a hot (indexed column) field and must hold a single value, not ${Array.isArray(value) ? 'an array' : 'an object'}`,
    );
  }
  switch (type) {
    case 'keyword':
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
    case 'flattened':
      return null;
    case 'text':
      return typeof value === 'string' ? value : null;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'date':
      return toEpochMs(value) ?? null;
    case 'boolean':
      return value === true || value === 'true' ? 1 : value === false || value === 'false' ? 0 : null;
  }
}

/** Words of a full-text query, split as the FTS5 tokenizer splits them (letters, digits, '_'). */
export const words = (text: string): string[] => text.match(/[\p{L}\p{N}_]+/gu) ?? [];
const ftsString = (word: string): string => `"${word.replaceAll('"', '""')}"`;

/** Converts `*`/`?` wildcards (with `\` escapes) to a GLOB pattern; `[` is the only other GLOB metacharacter. */
export function wildcardToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[++i] as string;
      out += next === '*' || next === '?' || next === '[' ? `[${next}]` : next;
    } else if (c === '[') out += '[[]';
    else out += c;
  }
  return out;
}

/** A literal as a wildcard pattern: `*`, `?` and `\` escaped. */
export const escapeWildcard = (literal: string): string => literal.replace(/[*?\\]/g, (c) => `\\${c}`);

export const prefixToGlob = (prefix: string): string => `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`;

export class SqlCompiler {
  readonly #spec: ResolvedSpec;
  readonly #now: number;

  constructor(spec: ResolvedSpec, now = Date.now()) {
    this.#spec = spec;
    this.#now = now;
  }

  get spec(): ResolvedSpec {
    return this.#spec;
  }

  source(field: string, usedBy: string): ValueSource {
    const type = fieldType(this.#spec, field, usedBy);
    if (field === 'id') return { kind: 'column', type, column: 't.id' };
    const column = this.#spec.hot.get(field);
    if (column !== undefined) return { kind: 'column', type, column: `t.${quoteIdent(column)}` };
    // A key of a flattened field is one JSON member whose name may hold dots (quoted; FIELD_PATTERN keeps quotes out).
    const keyed = flattenedKey(this.#spec, field);
    if (keyed !== undefined) return { kind: 'json', type: 'keyword', path: `${jsonPath(keyed.root)}."${keyed.key}"` };
    if (type === 'flattened') return { kind: 'json', type: 'keyword', path: jsonPath(field), tree: true };
    return { kind: 'json', type, path: jsonPath(field) };
  }

  /** A predicate on each value of a field: true when any value satisfies it. `pred` maps the value expression to SQL. */
  predicate(source: ValueSource, pred: (value: string) => Sql): Sql {
    if (source.kind === 'column') return pred(source.column);
    const p = pred(normalizedJson('j', source.type));
    return { sql: `EXISTS (SELECT 1 FROM ${jsonValues(source)}(t.doc, ?) AS j WHERE ${p.sql})`, params: [source.path, ...p.params] };
  }

  /** True when the field has at least one non-null value. */
  exists(source: ValueSource): Sql {
    return this.predicate(source, (v) => sql(`${v} IS NOT NULL`));
  }

  #fts(expression: string): Sql {
    return {
      sql: `t.rowid IN (SELECT rowid FROM ${ftsTableName(this.#spec)} WHERE ${ftsTableName(this.#spec)} MATCH ?)`,
      params: [expression],
    };
  }

  /** Full-text match of words on one text field (or all text fields). */
  #ftsWords(field: string | undefined, text: string, operator: 'and' | 'or', prefixLast = false): Sql {
    const tokens = words(text);
    if (tokens.length === 0) return FALSE;
    const terms = tokens.map((w, i) => ftsString(w) + (prefixLast && i === tokens.length - 1 ? '*' : ''));
    const body = terms.join(operator === 'and' ? ' AND ' : ' OR ');
    if (field === undefined) return this.#fts(body);
    const column = this.#spec.text.get(field);
    if (column === undefined) throw invalid(`field "${field}" is not a text field`);
    return this.#fts(`${column} : (${body})`);
  }

  where(query: Query | undefined): Sql {
    if (query === undefined) return TRUE;
    if ('bool' in query) return this.#bool(query.bool);
    if ('match_all' in query) return TRUE;
    if ('term' in query) return this.#terms(query.term.field, [query.term.value], 'term');
    if ('terms' in query) return this.#terms(query.terms.field, query.terms.values, 'terms');
    if ('range' in query) return this.#range(query.range);
    if ('exists' in query) return this.exists(this.source(query.exists.field, 'exists'));
    if ('prefix' in query) {
      const { field, value, case_insensitive: ci = false } = query.prefix;
      const source = this.source(field, 'prefix');
      if (source.type === 'text') {
        const tokens = words(value);
        // A prefix spanning several words can match no single token, as in Elasticsearch.
        return tokens.length === 1 && tokens[0] === value ? this.#ftsWords(field, value, 'and', true) : FALSE;
      }
      if (ci) return this.predicate(source, (v) => sql(`shallot_wildcard_ci(${v}, ?)`, `${escapeWildcard(value)}*`));
      return this.predicate(source, (v) => sql(`${v} GLOB ?`, prefixToGlob(value)));
    }
    if ('wildcard' in query) {
      const { field, value, case_insensitive: ci = false } = query.wildcard;
      const source = this.source(field, 'wildcard');
      // Text words are lowercased on both sides already: case_insensitive changes nothing there.
      if (source.type === 'text') return this.predicate(source, (v) => sql(`shallot_wildcard_tokens(${v}, ?)`, value));
      if (ci) return this.predicate(source, (v) => sql(`shallot_wildcard_ci(${v}, ?)`, value));
      return this.predicate(source, (v) => sql(`${v} GLOB ?`, wildcardToGlob(value)));
    }
    if ('match' in query) {
      const { field, query: text, operator = 'or' } = query.match;
      if (field === undefined) return this.#ftsWords(undefined, text, operator);
      const source = this.source(field, 'match');
      if (source.type === 'text') return this.#ftsWords(field, text, operator);
      return this.#terms(field, [text], 'match');
    }
    throw invalid(`query node ${shown(Object.keys(query))} is not supported`);
  }

  #bool(b: BoolQuery): Sql {
    const must = [...(b.must ?? []), ...(b.filter ?? [])].map((q) => this.where(q));
    const mustNot = (b.must_not ?? []).map((q) => not(this.where(q)));
    const parts = [...must, ...mustNot];
    const should = (b.should ?? []).map((q) => this.where(q));
    if (should.length > 0) {
      const minimum = b.minimum_should_match ?? (must.length > 0 ? 0 : 1);
      if (minimum === 1) parts.push(or(...should));
      else if (minimum > should.length) parts.push(FALSE);
      else if (minimum > 1) {
        parts.push({
          sql: `(${should.map((s) => `COALESCE((${s.sql}), 0)`).join(' + ')}) >= ${minimum}`,
          params: should.flatMap((s) => s.params),
        });
      }
    } else if ((b.minimum_should_match ?? 0) > 0) parts.push(FALSE);
    return and(...parts);
  }

  #terms(field: string, values: TermValue[], node: string): Sql {
    const source = this.source(field, node);
    if (values.length === 0) return FALSE;
    if (source.type === 'text') {
      // Elasticsearch matches term(s) on text fields against analyzed tokens: one phrase per value.
      return or(...values.map((value) => this.#ftsPhrase(field, String(value))));
    }
    const converted = [...new Set(values.map((v) => queryValue(field, source.type, v)))];
    if (converted.length === 1) return this.predicate(source, (v) => sql(`${v} = ?`, converted[0]));
    return this.predicate(source, (v) => sql(`${v} IN (${converted.map(() => '?').join(', ')})`, ...converted));
  }

  #ftsPhrase(field: string, text: string): Sql {
    const tokens = words(text);
    if (tokens.length === 0) return FALSE;
    const column = this.#spec.text.get(field);
    if (column === undefined) throw invalid(`field "${field}" is not a text field`);
    return this.#fts(`${column} : ${ftsString(tokens.join(' '))}`);
  }

  #range(r: { field: string; gt?: RangeValue; gte?: RangeValue; lt?: RangeValue; lte?: RangeValue }): Sql {
    const source = this.source(r.field, 'range');
    const bound = (value: RangeValue, roundUp: boolean): string | number => {
      if (source.type === 'date') return dateBound(value, r.field, roundUp, this.#now);
      return queryValue(r.field, source.type, value);
    };
    const conditions: Array<[string, string | number]> = [];
    if (r.gt !== undefined) conditions.push(['>', bound(r.gt, true)]);
    if (r.gte !== undefined) conditions.push(['>=', bound(r.gte, false)]);
    if (r.lt !== undefined) conditions.push(['<', bound(r.lt, false)]);
    if (r.lte !== undefined) conditions.push(['<=', bound(r.lte, true)]);
    // Text values never compare with numbers in SQLite; a string bound on a number field was converted above.
    return this.predicate(source, (v) => ({
      sql: [`${v} IS NOT NULL`, ...conditions.map(([op]) => `${v} ${op} ?`)].join(' AND '),
      params: conditions.map(([, value]) => value),
    }));
  }

  /** ORDER BY terms, then id (as the Elasticsearch engine); arrays sort by their smallest value ascending and largest descending, as in Elasticsearch. */
  orderBy(sort: SortSpec[] | undefined): Sql {
    const terms: string[] = [];
    const params: unknown[] = [];
    for (const s of sort ?? []) {
      const source = this.source(s.field, 'sort');
      const direction = s.order === 'desc' ? 'DESC' : 'ASC';
      const nulls = (s.missing ?? '_last') === '_last' ? 'NULLS LAST' : 'NULLS FIRST';
      if (source.kind === 'column') terms.push(`${source.column} ${direction} ${nulls}`);
      else {
        const fn = s.order === 'desc' ? 'MAX' : 'MIN';
        terms.push(`(SELECT ${fn}(${normalizedJson('s', source.type)}) FROM ${jsonValues(source)}(t.doc, ?) AS s) ${direction} ${nulls}`);
        params.push(source.path);
      }
    }
    terms.push('t.id ASC');
    return { sql: terms.join(', '), params };
  }
}
