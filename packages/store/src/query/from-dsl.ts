/**
 * Parses the Elasticsearch query-DSL subset task-monitor clients send to `/v1/search` (leek-management-and-search §7.8)
 * into the store's AST, against one index spec. Anything outside the subset is refused with a StoreError of kind
 * 'unsupported' naming the clause's path (`query.bool.must[1].geo_distance`); a malformed clause is 'invalid', also
 * with its path. Clauses on fields the spec does not declare match nothing and aggregate to empty results, as on an
 * Elasticsearch index with a non-dynamic mapping.
 */
import { StoreError, shown } from '../errors.js';
import { type ResolvedSpec, flattenedKey } from '../spec.js';
import type { FieldType, SearchRequest } from '../types.js';
import { isFieldPath } from '../validate.js';
import {
  AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS,
  type Aggregation,
  type AggregationResult,
  type Query,
  type RangeValue,
  type SortSpec,
  type TermValue,
  type TermsOrder,
} from './ast.js';
import { MAX_RESULT_WINDOW } from './check.js';
import { escapeWildcard } from './sql.js';

/** Bool clauses nest at most this deep (Elasticsearch's `indices.query.bool.max_nested_depth` is 30). */
export const DSL_MAX_QUERY_DEPTH = 30;
/** Leaf clauses in one query, and values in one `terms` (Elasticsearch's `indices.query.bool.max_clause_count`). */
export const DSL_MAX_CLAUSES = 4096;
/** Bucket aggregations nest at most this deep. */
export const DSL_MAX_AGG_DEPTH = 4;
/** A terms aggregation returns at most this many buckets. */
export const DSL_MAX_TERMS_SIZE = 10_000;
/** The product of bucket counts along a chain of nested bucket aggregations (Elasticsearch's `search.max_buckets`). */
export const DSL_MAX_BUCKETS = 65_536;
/** Named aggregations in one request. */
export const DSL_MAX_AGGS = 100;
/** @default size of a search without `size`, as in Elasticsearch */
export const DSL_DEFAULT_SIZE = 10;

/** Matches no document: what a clause on an undeclared field becomes. */
export const MATCH_NONE: Query = { bool: { must_not: [{ match_all: {} }] } };

/** Which fields of `_source` the hits carry. */
export type SourceFilter = { enabled: false } | { enabled: true; includes: string[]; excludes: string[] };

/**
 * How to rebuild the client's aggregation result from the engine's:
 * - `native`: the engine's result, with sub-aggregations rebuilt by `subs` (inside each bucket, or beside doc_count);
 * - `constant`: an aggregation on an undeclared field — a fixed empty result;
 * - `missing`: a terms aggregation on an undeclared field with `missing`: every document falls in the one `key`
 *   bucket; run as a match-all filter aggregation;
 * - `filters`: a filters aggregation, run as a match-all filter aggregation holding one filter per bucket.
 */
export type AggPlan = (
  | { kind: 'native'; subs: Record<string, AggPlan> }
  | { kind: 'constant'; result: AggregationResult; subs: Record<string, AggPlan> }
  | { kind: 'missing'; key: TermValue; minDocCount: number; subs: Record<string, AggPlan> }
  | { kind: 'filters'; keys: string[] | undefined; subs: Record<string, AggPlan> }
) & {
  /** The AST's name for it when the client's name is not an identifier (Elasticsearch allows `error.type`). */
  as?: string;
};

/** A parsed search: the AST request to run, and what to rebuild the client's response with. */
export interface DslSearch {
  request: SearchRequest;
  /** Present when the body asked for aggregations (even `{}`). */
  aggs?: Record<string, AggPlan>;
  source: SourceFilter;
  sorted: boolean;
}

/** Page values that override the body's `size` and `from` (the URL's `size` and `from_`). */
export interface DslOverrides {
  size?: number;
  from?: number;
}

/** Names the AST accepts for aggregations; others get an internal name and keep theirs in the response. */
const AST_AGG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const unsupported = (path: string): StoreError => new StoreError('unsupported', `unsupported query clause: ${path}`);
const invalid = (path: string, message: string): StoreError => new StoreError('invalid', `${path}: ${message}`);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTermValue = (value: unknown): value is TermValue =>
  typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** `a.b` for identifiers, `a["x-y"]` otherwise, so paths stay readable and unambiguous. */
function child(path: string, key: string): string {
  const safe = /^[A-Za-z_@][A-Za-z0-9_@.-]*$/.test(key) ? key : shown(key);
  return path === '' ? safe : /^[A-Za-z_@]/.test(safe) ? `${path}.${safe}` : `${path}[${safe}]`;
}
const item = (path: string, index: number): string => `${path}[${index}]`;

/** Only these keys may appear in `value`; any other names itself as unsupported. */
function allowKeys(value: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw unsupported(child(path, key));
}

/** The single `{field: params}` entry of a leaf clause. */
function fieldEntry(value: unknown, path: string): [string, unknown] {
  if (!isObject(value)) throw invalid(path, 'expected an object {<field>: …}');
  const entries = Object.entries(value);
  if (entries.length !== 1) throw invalid(path, `expected exactly one field, got ${entries.length}`);
  return entries[0] as [string, unknown];
}

function nonNegativeInteger(value: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw invalid(path, `expected an integer from 0 to ${max}, got ${shown(value)}`);
  return value;
}

/** A field of the spec as a clause uses it; undefined when the spec does not declare it (the clause matches nothing). */
interface FieldRef {
  field: string;
  type: FieldType;
  /** Reached through Elasticsearch's `.keyword` sub-field of a text field: the whole value, not its words. */
  wholeText?: boolean;
}

/** Suffixes Elasticsearch mappings add under a field, mapped to the field itself. */
const SUB_FIELDS = ['keyword', 'wc'] as const;

function resolveField(spec: ResolvedSpec, name: string): FieldRef | undefined {
  if (name === '_id') return { field: 'id', type: 'keyword' };
  if (!isFieldPath(name)) return undefined;
  const type = spec.fields.get(name);
  if (type !== undefined) return { field: name, type };
  if (flattenedKey(spec, name) !== undefined) return { field: name, type: 'keyword' };
  for (const suffix of SUB_FIELDS) {
    if (!name.endsWith(`.${suffix}`)) continue;
    const base = name.slice(0, -suffix.length - 1);
    const baseType = spec.fields.get(base);
    if (baseType === 'keyword') return { field: base, type: 'keyword' };
    if (baseType === 'text') return { field: base, type: 'text', wholeText: true };
  }
  return undefined;
}

class DslParser {
  readonly #spec: ResolvedSpec;
  #clauses = 0;
  #aggCount = 0;

  constructor(spec: ResolvedSpec) {
    this.#spec = spec;
  }

  /** A field for a query clause; refuses whole-value matching of a text field's `.keyword`, which the AST cannot express. */
  #queryField(name: string, path: string, clause: string): FieldRef | undefined {
    if ((clause === 'term' || clause === 'terms' || clause === 'match') && this.#spec.spec.idAliases?.includes(name)) {
      return { field: 'id', type: 'keyword' };
    }
    const ref = resolveField(this.#spec, name);
    if (ref?.wholeText === true && clause !== 'exists') {
      throw new StoreError(
        'unsupported',
        `unsupported query clause: ${path} (${clause} on "${name}", the whole-value sub-field of text field "${ref.field}"; query "${ref.field}" itself)`,
      );
    }
    return ref;
  }

  #countClause(path: string): void {
    if (++this.#clauses > DSL_MAX_CLAUSES) throw invalid(path, `a query may hold at most ${DSL_MAX_CLAUSES} clauses`);
  }

  query(value: unknown, path: string, depth = 0): Query {
    if (!isObject(value)) throw invalid(path, 'expected a query object');
    const entries = Object.entries(value);
    if (entries.length !== 1) throw invalid(path, `a query object holds exactly one clause, got ${entries.length}`);
    const [clause, params] = entries[0] as [string, unknown];
    const at = child(path, clause);
    if (depth > DSL_MAX_QUERY_DEPTH) throw invalid(at, `queries nest at most ${DSL_MAX_QUERY_DEPTH} deep`);
    this.#countClause(at);
    switch (clause) {
      case 'bool':
        return this.#bool(params, at, depth);
      case 'match_all':
        if (!isObject(params)) throw invalid(at, 'expected {}');
        allowKeys(params, at, []);
        return { match_all: {} };
      case 'term':
        return this.#term(params, at);
      case 'terms':
        return this.#terms(params, at);
      case 'ids':
        return this.#ids(params, at);
      case 'match':
        return this.#match(params, at);
      case 'range':
        return this.#range(params, at);
      case 'prefix':
        return this.#pattern('prefix', params, at);
      case 'wildcard':
        return this.#pattern('wildcard', params, at);
      case 'exists':
        return this.#exists(params, at);
      default:
        throw unsupported(at);
    }
  }

  #bool(params: unknown, path: string, depth: number): Query {
    if (!isObject(params)) throw invalid(path, 'expected an object');
    allowKeys(params, path, ['must', 'should', 'must_not', 'filter', 'minimum_should_match']);
    const bool: Extract<Query, { bool: unknown }>['bool'] = {};
    for (const occur of ['must', 'should', 'must_not', 'filter'] as const) {
      const clauses = params[occur];
      if (clauses === undefined) continue;
      const at = child(path, occur);
      // Elasticsearch takes one clause or a list.
      const list = Array.isArray(clauses) ? clauses : [clauses];
      bool[occur] = list.map((q, i) => this.query(q, Array.isArray(clauses) ? item(at, i) : at, depth + 1));
    }
    const msm = params.minimum_should_match;
    if (msm !== undefined) {
      const at = child(path, 'minimum_should_match');
      const n = typeof msm === 'string' && /^\d+$/.test(msm) ? Number(msm) : msm;
      bool.minimum_should_match = nonNegativeInteger(n, at, DSL_MAX_CLAUSES);
    }
    return { bool };
  }

  #term(params: unknown, path: string): Query {
    const [name, spec] = fieldEntry(params, path);
    const at = child(path, name);
    let value: unknown = spec;
    let caseInsensitive = false;
    if (isObject(spec)) {
      allowKeys(spec, at, ['value', 'case_insensitive']);
      value = spec.value;
      caseInsensitive = this.#flag(spec.case_insensitive, child(at, 'case_insensitive'));
    }
    if (!isTermValue(value)) throw invalid(at, `expected a string, number or boolean value, got ${shown(value)}`);
    const ref = this.#queryField(name, at, 'term');
    if (ref === undefined) return MATCH_NONE;
    if (caseInsensitive && ref.type === 'keyword') {
      return { wildcard: { field: ref.field, value: escapeWildcard(String(value)), case_insensitive: true } };
    }
    return { term: { field: ref.field, value } };
  }

  #terms(params: unknown, path: string): Query {
    const [name, values] = fieldEntry(params, path);
    const at = child(path, name);
    if (!Array.isArray(values))
      throw isObject(values) ? unsupported(child(at, Object.keys(values)[0] ?? 'lookup')) : invalid(at, 'expected a list of values');
    if (values.length > DSL_MAX_CLAUSES) throw invalid(at, `at most ${DSL_MAX_CLAUSES} values`);
    values.forEach((v, i) => {
      if (!isTermValue(v)) throw invalid(item(at, i), `expected a string, number or boolean value, got ${shown(v)}`);
    });
    const ref = this.#queryField(name, at, 'terms');
    return ref === undefined ? MATCH_NONE : { terms: { field: ref.field, values: values as TermValue[] } };
  }

  #ids(params: unknown, path: string): Query {
    if (!isObject(params)) throw invalid(path, 'expected {values: [...]}');
    allowKeys(params, path, ['values']);
    const values = params.values;
    const at = child(path, 'values');
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw invalid(at, 'expected a list of ids');
    if (values.length > DSL_MAX_CLAUSES) throw invalid(at, `at most ${DSL_MAX_CLAUSES} ids`);
    return { terms: { field: 'id', values } };
  }

  /** `match` is exact equality on keyword, number, date and boolean fields, and full text on text fields. */
  #match(params: unknown, path: string): Query {
    const [name, spec] = fieldEntry(params, path);
    const at = child(path, name);
    let value: unknown = spec;
    let operator: 'and' | 'or' | undefined;
    if (isObject(spec)) {
      allowKeys(spec, at, ['query', 'operator']);
      value = spec.query;
      if (spec.operator !== undefined) {
        const op = typeof spec.operator === 'string' ? spec.operator.toLowerCase() : spec.operator;
        if (op !== 'and' && op !== 'or') throw invalid(child(at, 'operator'), 'expected "and" or "or"');
        operator = op;
      }
    }
    if (!isTermValue(value)) throw invalid(at, `expected a string, number or boolean query, got ${shown(value)}`);
    const ref = this.#queryField(name, at, 'match');
    if (ref === undefined) return MATCH_NONE;
    if (ref.type === 'text') return { match: { field: ref.field, query: String(value), ...(operator === undefined ? {} : { operator }) } };
    return { term: { field: ref.field, value } };
  }

  #range(params: unknown, path: string): Query {
    const [name, spec] = fieldEntry(params, path);
    const at = child(path, name);
    if (!isObject(spec)) throw invalid(at, 'expected {gt, gte, lt, lte}');
    allowKeys(spec, at, ['gt', 'gte', 'lt', 'lte']);
    const bounds: Partial<Record<'gt' | 'gte' | 'lt' | 'lte', RangeValue>> = {};
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const bound = spec[op];
      // null is an open end, as in Elasticsearch.
      if (bound === undefined || bound === null) continue;
      if (typeof bound !== 'string' && !(typeof bound === 'number' && Number.isFinite(bound)))
        throw invalid(child(at, op), `expected a number, a date or date math, got ${shown(bound)}`);
      bounds[op] = bound;
    }
    const ref = this.#queryField(name, at, 'range');
    if (ref === undefined) return MATCH_NONE;
    // Without bounds Elasticsearch matches every document that has the field.
    if (Object.keys(bounds).length === 0) return { exists: { field: ref.field } };
    return { range: { field: ref.field, ...bounds } };
  }

  #pattern(kind: 'prefix' | 'wildcard', params: unknown, path: string): Query {
    const [name, spec] = fieldEntry(params, path);
    const at = child(path, name);
    let value: unknown = spec;
    let caseInsensitive = false;
    if (isObject(spec)) {
      // `wildcard: {f: {wildcard: "…"}}` is Elasticsearch's older spelling of `value`.
      allowKeys(spec, at, kind === 'wildcard' ? ['value', 'wildcard', 'case_insensitive'] : ['value', 'case_insensitive']);
      value = spec.value ?? (kind === 'wildcard' ? spec.wildcard : undefined);
      caseInsensitive = this.#flag(spec.case_insensitive, child(at, 'case_insensitive'));
    }
    if (typeof value !== 'string') throw invalid(at, `expected a string ${kind === 'prefix' ? 'prefix' : 'pattern'}`);
    const ref = this.#queryField(name, at, kind);
    if (ref === undefined) return MATCH_NONE;
    const node = { field: ref.field, value, ...(caseInsensitive ? { case_insensitive: true } : {}) };
    return kind === 'prefix' ? { prefix: node } : { wildcard: node };
  }

  #exists(params: unknown, path: string): Query {
    if (!isObject(params)) throw invalid(path, 'expected {field}');
    allowKeys(params, path, ['field']);
    if (typeof params.field !== 'string') throw invalid(child(path, 'field'), 'expected a field name');
    const ref = this.#queryField(params.field, path, 'exists');
    return ref === undefined ? MATCH_NONE : { exists: { field: ref.field } };
  }

  #flag(value: unknown, path: string): boolean {
    if (value === undefined) return false;
    if (typeof value !== 'boolean') throw invalid(path, 'expected true or false');
    return value;
  }

  // ---- sort -------------------------------------------------------------------------------------------------------

  sort(value: unknown, path: string): SortSpec[] {
    const list = Array.isArray(value) ? value : [value];
    const out: SortSpec[] = [];
    list.forEach((entry, i) => {
      const at = Array.isArray(value) ? item(path, i) : path;
      let name: string;
      let params: unknown;
      if (typeof entry === 'string') [name, params] = [entry, undefined];
      else [name, params] = fieldEntry(entry, at);
      const where = child(at, name);
      let order: 'asc' | 'desc' | undefined;
      let missing: '_first' | '_last' | undefined;
      let unmappedType: unknown;
      if (typeof params === 'string') order = this.#order(params, where);
      else if (isObject(params)) {
        allowKeys(params, where, ['order', 'missing', 'unmapped_type']);
        if (params.order !== undefined) order = this.#order(params.order, child(where, 'order'));
        if (params.missing !== undefined) {
          if (params.missing !== '_first' && params.missing !== '_last')
            throw invalid(child(where, 'missing'), 'expected "_first" or "_last"');
          missing = params.missing;
        }
        unmappedType = params.unmapped_type;
      } else if (params !== undefined) throw invalid(where, 'expected "asc", "desc" or {order, missing}');
      // No relevance scores here: every hit scores alike, so _score and _doc leave the order to the next key (id).
      if (name === '_score' || name === '_doc') return;
      const ref = resolveField(this.#spec, name);
      if (ref === undefined) {
        if (unmappedType !== undefined) return;
        throw invalid(where, `no field "${name}" to sort on in this index`);
      }
      out.push({ field: ref.field, order: order ?? 'asc', ...(missing === undefined ? {} : { missing }) });
    });
    return out;
  }

  #order(value: unknown, path: string): 'asc' | 'desc' {
    if (value !== 'asc' && value !== 'desc') throw invalid(path, 'expected "asc" or "desc"');
    return value;
  }

  // ---- aggregations -----------------------------------------------------------------------------------------------

  /** Aggregations of one level; `bucketsAbove` is the product of bucket counts of the enclosing bucket aggregations. */
  aggs(
    value: unknown,
    path: string,
    depth: number,
    bucketsAbove: number,
  ): { ast: Record<string, Aggregation>; plan: Record<string, AggPlan> } {
    if (!isObject(value)) throw invalid(path, 'expected an object of named aggregations');
    const ast: Record<string, Aggregation> = {};
    const plan: Record<string, AggPlan> = {};
    const names = Object.keys(value);
    let internal = 0;
    for (const [name, agg] of Object.entries(value)) {
      const at = child(path, name);
      if (name === '' || /[[\]>]/.test(name) || name.length > 100)
        throw invalid(at, 'aggregation names are 1 to 100 characters other than "[", "]" and ">"');
      if (++this.#aggCount > DSL_MAX_AGGS) throw invalid(at, `a request may hold at most ${DSL_MAX_AGGS} aggregations`);
      const parsed = this.#agg(agg, at, depth, bucketsAbove);
      let astName = name;
      if (!AST_AGG_NAME.test(name)) {
        do astName = `_agg${internal++}`;
        while (names.includes(astName));
        parsed.plan.as = astName;
      }
      plan[name] = parsed.plan;
      if (parsed.ast !== undefined) ast[astName] = parsed.ast;
    }
    return { ast, plan };
  }

  #agg(value: unknown, path: string, depth: number, bucketsAbove: number): { ast?: Aggregation; plan: AggPlan } {
    if (!isObject(value)) throw invalid(path, 'expected an aggregation object');
    const subKey = 'aggs' in value ? 'aggs' : 'aggregations' in value ? 'aggregations' : undefined;
    if ('aggs' in value && 'aggregations' in value) throw invalid(path, 'give sub-aggregations as aggs or aggregations, not both');
    const kinds = Object.keys(value).filter((k) => k !== subKey);
    if (kinds.length !== 1) throw invalid(path, `an aggregation has exactly one type, got ${kinds.length}`);
    const kind = kinds[0] as string;
    const at = child(path, kind);
    const params = value[kind];
    const subsAt = subKey === undefined ? undefined : child(path, subKey);
    const subs = (buckets: number) => {
      const total = bucketsAbove * buckets;
      if (total > DSL_MAX_BUCKETS)
        throw invalid(path, `nested aggregations could make ${total} buckets, above the maximum of ${DSL_MAX_BUCKETS}`);
      if (subKey === undefined) return { ast: undefined, plan: {} };
      if (depth + 1 >= DSL_MAX_AGG_DEPTH) throw invalid(subsAt as string, `bucket aggregations nest at most ${DSL_MAX_AGG_DEPTH} deep`);
      const parsed = this.aggs(value[subKey], subsAt as string, depth + 1, total);
      return { ast: parsed.ast, plan: parsed.plan };
    };
    const withSubs = (ast: Aggregation, sub: { ast: Record<string, Aggregation> | undefined }): Aggregation =>
      sub.ast === undefined || Object.keys(sub.ast).length === 0 ? ast : ({ ...ast, aggs: sub.ast } as Aggregation);

    switch (kind) {
      case 'terms':
        return this.#termsAgg(params, at, subs, withSubs);
      case 'auto_date_histogram': {
        if (!isObject(params)) throw invalid(at, 'expected {field, buckets}');
        allowKeys(params, at, ['field', 'buckets']);
        const buckets =
          params.buckets === undefined
            ? AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS
            : nonNegativeInteger(params.buckets, child(at, 'buckets'), 1000);
        if (buckets < 1) throw invalid(child(at, 'buckets'), 'expected at least 1');
        const ref = this.#aggField(params.field, at);
        const sub = subs(buckets);
        if (ref === undefined) return { plan: { kind: 'constant', result: { buckets: [], interval: '1s' }, subs: sub.plan } };
        return {
          ast: withSubs({ auto_date_histogram: { field: ref.field, buckets } }, sub),
          plan: { kind: 'native', subs: sub.plan },
        };
      }
      case 'date_histogram':
      case 'histogram': {
        if (!isObject(params)) throw invalid(at, 'expected an object');
        const keys =
          kind === 'histogram'
            ? ['field', 'interval', 'min_doc_count', 'extended_bounds']
            : ['field', 'calendar_interval', 'fixed_interval', 'interval', 'min_doc_count', 'extended_bounds'];
        allowKeys(params, at, keys);
        const ref = this.#aggField(params.field, at);
        // Their bucket count depends on the data: the engines cap it (MAX_BUCKETS); count them as one level of 100 here.
        const sub = subs(100);
        if (ref === undefined) return { plan: { kind: 'constant', result: { buckets: [] }, subs: sub.plan } };
        const { field: _field, interval, ...rest } = params;
        let ast: Aggregation;
        if (kind === 'histogram') ast = { histogram: { ...rest, field: ref.field, interval } } as Aggregation;
        else {
          // The pre-7.2 `interval` is a calendar unit (`1d`, `month`) or a fixed one (`90m`).
          const legacy =
            interval === undefined
              ? {}
              : typeof interval === 'string' && /^(1?[mhdwMqy]|minute|hour|day|week|month|quarter|year)$/.test(interval)
                ? { calendar_interval: interval }
                : { fixed_interval: interval };
          ast = { date_histogram: { ...rest, ...legacy, field: ref.field } } as Aggregation;
        }
        return { ast: withSubs(ast, sub), plan: { kind: 'native', subs: sub.plan } };
      }
      case 'filter': {
        const sub = subs(1);
        return {
          ast: withSubs({ filter: { query: this.query(params, at) } }, sub),
          plan: { kind: 'native', subs: sub.plan },
        };
      }
      case 'filters':
        return this.#filtersAgg(params, at, subs, withSubs);
      case 'avg':
      case 'sum':
      case 'min':
      case 'max':
      case 'stats':
      case 'cardinality': {
        if (!isObject(params)) throw invalid(at, 'expected {field}');
        allowKeys(params, at, ['field']);
        if (subKey !== undefined) throw invalid(subsAt as string, `a ${kind} aggregation has no sub-aggregations`);
        const ref = this.#aggField(params.field, at);
        if (ref === undefined) return { plan: { kind: 'constant', result: emptyMetric(kind), subs: {} } };
        return { ast: { [kind]: { field: ref.field } } as Aggregation, plan: { kind: 'native', subs: {} } };
      }
      default:
        throw unsupported(at);
    }
  }

  #aggField(name: unknown, path: string): FieldRef | undefined {
    if (typeof name !== 'string') throw invalid(child(path, 'field'), 'expected a field name');
    return resolveField(this.#spec, name);
  }

  #termsAgg(
    params: unknown,
    path: string,
    subs: (buckets: number) => { ast: Record<string, Aggregation> | undefined; plan: Record<string, AggPlan> },
    withSubs: (ast: Aggregation, sub: { ast: Record<string, Aggregation> | undefined }) => Aggregation,
  ): { ast?: Aggregation; plan: AggPlan } {
    if (!isObject(params)) throw invalid(path, 'expected {field, size, …}');
    allowKeys(params, path, ['field', 'size', 'missing', 'min_doc_count', 'order']);
    const size = params.size === undefined ? 10 : nonNegativeInteger(params.size, child(path, 'size'), DSL_MAX_TERMS_SIZE);
    if (size < 1) throw invalid(child(path, 'size'), 'expected at least 1');
    const minDocCount = params.min_doc_count === undefined ? 1 : nonNegativeInteger(params.min_doc_count, child(path, 'min_doc_count'));
    const missing = params.missing;
    if (missing !== undefined && !isTermValue(missing)) throw invalid(child(path, 'missing'), 'expected a string, number or boolean');
    const ref = this.#aggField(params.field, path);
    const sub = subs(size);
    if (ref === undefined) {
      // Every document lacks the field: all of them are the `missing` bucket, or there is no bucket.
      if (missing === undefined)
        return {
          plan: { kind: 'constant', result: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] }, subs: sub.plan },
        };
      return {
        ast: withSubs({ filter: { query: { match_all: {} } } }, sub),
        plan: { kind: 'missing', key: missing, minDocCount, subs: sub.plan },
      };
    }
    const order = params.order === undefined ? undefined : this.#termsOrder(params.order, child(path, 'order'), sub.plan);
    const terms = {
      field: ref.field,
      size,
      ...(missing === undefined ? {} : { missing }),
      ...(params.min_doc_count === undefined ? {} : { min_doc_count: minDocCount }),
      ...(order === undefined ? {} : { order }),
    };
    return { ast: withSubs({ terms }, sub), plan: { kind: 'native', subs: sub.plan } };
  }

  /** One order criterion; further ones may only be `_key: asc`, the tiebreak both engines apply anyway. */
  #termsOrder(value: unknown, path: string, subPlans: Record<string, AggPlan>): TermsOrder {
    const list = Array.isArray(value) ? value : [value];
    const [first, ...rest] = list;
    rest.forEach((extra, i) => {
      if (!isObject(extra) || Object.keys(extra).length !== 1 || (extra._key ?? extra._term) !== 'asc')
        throw new StoreError(
          'unsupported',
          `unsupported query clause: ${item(path, i + 1)} (only one order, optionally followed by {_key: "asc"})`,
        );
    });
    const at = Array.isArray(value) ? item(path, 0) : path;
    const [key, direction] = fieldEntry(first, at);
    if (direction !== 'asc' && direction !== 'desc') throw invalid(child(at, key), 'expected "asc" or "desc"');
    if (key === '_count' || key === '_key') return { [key]: direction };
    if (key === '_term') return { _key: direction };
    const [subName = '', prop] = key.split('.');
    const sub = subPlans[subName];
    if (sub === undefined) throw invalid(child(at, key), `order names no sub-aggregation "${subName}"`);
    // A metric on an undeclared field is null (or 0) in every bucket: the order falls to the key tiebreak.
    if (sub.kind !== 'native') return { _key: 'asc' };
    const astName = sub.as ?? subName;
    return { [prop === undefined || prop === 'value' ? astName : `${astName}.${prop}`]: direction };
  }

  #filtersAgg(
    params: unknown,
    path: string,
    subs: (buckets: number) => { ast: Record<string, Aggregation> | undefined; plan: Record<string, AggPlan> },
    withSubs: (ast: Aggregation, sub: { ast: Record<string, Aggregation> | undefined }) => Aggregation,
  ): { ast?: Aggregation; plan: AggPlan } {
    if (!isObject(params)) throw invalid(path, 'expected {filters: {...}}');
    allowKeys(params, path, ['filters']);
    const filters = params.filters;
    const at = child(path, 'filters');
    const entries: Array<[string, unknown, string]> = Array.isArray(filters)
      ? filters.map((q, i) => [String(i), q, item(at, i)])
      : isObject(filters)
        ? Object.entries(filters).map(([k, q]) => [k, q, child(at, k)])
        : [];
    if (!Array.isArray(filters) && !isObject(filters)) throw invalid(at, 'expected an object or a list of queries');
    if (entries.length > 100) throw invalid(at, 'at most 100 filters');
    const sub = subs(entries.length);
    const inner: Record<string, Aggregation> = {};
    entries.forEach(([, q, where], i) => {
      inner[`b${i}`] = withSubs({ filter: { query: this.query(q, where) } }, sub);
    });
    return {
      ast: { filter: { query: { match_all: {} } }, aggs: inner },
      plan: { kind: 'filters', keys: Array.isArray(filters) ? undefined : entries.map(([k]) => k), subs: sub.plan },
    };
  }

  // ---- _source ------------------------------------------------------------------------------------------------------

  source(value: unknown, path: string): SourceFilter {
    if (value === undefined || value === true) return { enabled: true, includes: [], excludes: [] };
    if (value === false) return { enabled: false };
    const patterns = (v: unknown, at: string): string[] => {
      if (v === undefined) return [];
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p !== ''))
        throw invalid(at, 'expected a field pattern or a list of them');
      if (list.length > MAX_SOURCE_PATTERNS) throw invalid(at, `expected at most ${MAX_SOURCE_PATTERNS} patterns`);
      if (list.some((p) => p.length > MAX_SOURCE_PATTERN_LENGTH))
        throw invalid(at, `a field pattern is longer than ${MAX_SOURCE_PATTERN_LENGTH} characters`);
      return list;
    };
    if (typeof value === 'string' || Array.isArray(value)) return { enabled: true, includes: patterns(value, path), excludes: [] };
    if (!isObject(value)) throw invalid(path, 'expected true, false, patterns or {includes, excludes}');
    allowKeys(value, path, ['includes', 'excludes', 'include', 'exclude']);
    return {
      enabled: true,
      includes: [...patterns(value.includes, child(path, 'includes')), ...patterns(value.include, child(path, 'include'))],
      excludes: [...patterns(value.excludes, child(path, 'excludes')), ...patterns(value.exclude, child(path, 'exclude'))],
    };
  }
}

function emptyMetric(kind: string): AggregationResult {
  if (kind === 'stats') return { count: 0, min: null, max: null, avg: null, sum: 0 };
  return { value: kind === 'sum' || kind === 'cardinality' ? 0 : null };
}

/** `_source` patterns name fields: longer ones or more of them are refused before any matching. */
const MAX_SOURCE_PATTERNS = 200;
const MAX_SOURCE_PATTERN_LENGTH = 1000;

const ENVELOPE = ['query', 'aggs', 'aggregations', 'sort', 'size', 'from', '_source', 'track_total_hits'] as const;

/**
 * Parses a search body against an index spec. `overrides` (the URL's page) win over the body's `size` and `from`;
 * `from + size` may not exceed MAX_RESULT_WINDOW.
 */
export function fromDsl(body: unknown, spec: ResolvedSpec, overrides: DslOverrides = {}): DslSearch {
  const dsl = body === undefined || body === null ? {} : body;
  if (!isObject(dsl)) throw new StoreError('invalid', 'the search body must be a JSON object');
  allowKeys(dsl, '', ENVELOPE);
  if ('aggs' in dsl && 'aggregations' in dsl) throw new StoreError('invalid', 'give aggregations as aggs or aggregations, not both');
  const parser = new DslParser(spec);
  const request: SearchRequest = {};
  if (dsl.query !== undefined) request.query = parser.query(dsl.query, 'query');
  const sort = dsl.sort === undefined ? [] : parser.sort(dsl.sort, 'sort');
  if (sort.length > 0) request.sort = sort;
  const track = dsl.track_total_hits;
  if (track !== undefined && typeof track !== 'boolean' && !(typeof track === 'number' && Number.isInteger(track)))
    throw new StoreError('invalid', 'track_total_hits: expected true, false or an integer');
  // The body's page is checked even when the URL's wins: a malformed body is refused either way.
  const bodySize = dsl.size === undefined ? DSL_DEFAULT_SIZE : nonNegativeInteger(dsl.size, 'size', MAX_RESULT_WINDOW);
  const bodyFrom = dsl.from === undefined ? 0 : nonNegativeInteger(dsl.from, 'from', MAX_RESULT_WINDOW);
  const size = overrides.size ?? bodySize;
  const from = overrides.from ?? bodyFrom;
  if (from + size > MAX_RESULT_WINDOW)
    throw new StoreError(
      'invalid',
      `from + size is ${from + size}, above the maximum of ${MAX_RESULT_WINDOW}: narrow the query or page by time`,
    );
  request.offset = from;
  request.limit = size;
  const search: DslSearch = { request, source: parser.source(dsl._source, '_source'), sorted: sort.length > 0 };
  const aggsKey = 'aggs' in dsl ? 'aggs' : 'aggregations' in dsl ? 'aggregations' : undefined;
  if (aggsKey !== undefined) {
    const parsed = parser.aggs(dsl[aggsKey], aggsKey, 0, 1);
    search.aggs = parsed.plan;
    if (Object.keys(parsed.ast).length > 0) request.aggs = parsed.ast;
  }
  return search;
}
