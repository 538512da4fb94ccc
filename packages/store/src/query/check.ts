/** Validation shared by both engines: the AST's shape (TypeBox), declared fields, and what each node allows per field type. */
import { type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { dateBound, parseCalendarInterval, parseFixedInterval } from '../dates.js';
import { invalid, shown, unsupported } from '../errors.js';
import { type ResolvedSpec, fieldType } from '../spec.js';
import type { FieldType } from '../types.js';
import { isFieldPath } from '../validate.js';
import { queryValue } from './values.js';
import {
  type Aggregation,
  Aggregations,
  AutoDateHistogramParams,
  DateHistogramParams,
  FieldName,
  HistogramParams,
  Query,
  SortSpec,
  TermsParams,
  aggregationKind,
} from './ast.js';

/** Elasticsearch's `index.max_result_window`: offset + limit may not exceed it on either engine. */
export const MAX_RESULT_WINDOW = 10_000;
/** @default size of a search page, as in Elasticsearch */
export const DEFAULT_LIMIT = 10;
/** Elasticsearch's `search.max_buckets`. */
export const MAX_BUCKETS = 65_536;

const QueryCheck = TypeCompiler.Compile(Query);
const SortCheck = TypeCompiler.Compile(Type.Array(SortSpec));
const AggsCheck = TypeCompiler.Compile(Aggregations);

function firstError<T extends TSchema>(check: ReturnType<typeof TypeCompiler.Compile<T>>, value: unknown): string | undefined {
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  if (first === undefined) return 'unexpected shape';
  return `${first.path === '' ? '' : `${first.path}: `}${first.message}${typeof first.value === 'string' ? ` (got ${shown(first.value)})` : ''}`;
}

function checkShape<T extends TSchema>(
  check: ReturnType<typeof TypeCompiler.Compile<T>>,
  value: unknown,
  what: string,
  diagnose?: (value: unknown) => void,
): void {
  const error = firstError(check, value);
  if (error === undefined) return;
  // Unions report only "Expected union value": find the node that is wrong and say what is wrong with it.
  diagnose?.(value);
  throw invalid(`${what} is invalid at ${error}`);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const QUERY_LEAVES = ['term', 'terms', 'range', 'prefix', 'wildcard', 'exists', 'match', 'match_all'] as const;
const QUERY_NODES: readonly string[] = ['bool', ...QUERY_LEAVES];
const leafChecks = new Map(
  (Query.anyOf as TSchema[]).flatMap((variant) => {
    const key = Object.keys((variant as unknown as { properties: Record<string, unknown> }).properties)[0];
    return key === undefined || key === 'bool' ? [] : [[key, TypeCompiler.Compile(variant)] as const];
  }),
);

function checkFieldName(field: unknown, at: string): void {
  if (field !== undefined && !isFieldPath(field)) {
    throw invalid(`${at}: field name ${shown(field)} is invalid: use dot-separated identifiers (letters, digits, '_')`);
  }
}

/** Throws the precise error for a query that failed the schema. */
function diagnoseQuery(value: unknown, path: string): void {
  const at = path === '' ? '/' : path;
  if (!isObject(value) || Object.keys(value).length !== 1) {
    throw invalid(`query node at ${at} must be an object with exactly one of: ${QUERY_NODES.join(', ')}`);
  }
  const [key, params] = Object.entries(value)[0] as [string, unknown];
  if (!QUERY_NODES.includes(key))
    throw unsupported(`query clause "${key}" at ${at} is not supported (supported: ${QUERY_NODES.join(', ')})`);
  if (key === 'bool') {
    if (!isObject(params)) throw invalid(`bool at ${at} must be an object`);
    for (const [clause, list] of Object.entries(params)) {
      if (clause === 'minimum_should_match') continue;
      if (!['must', 'should', 'must_not', 'filter'].includes(clause))
        throw unsupported(`bool clause "${clause}" at ${at} is not supported (use must, should, must_not, filter, minimum_should_match)`);
      if (!Array.isArray(list)) throw invalid(`bool.${clause} at ${at} must be an array of queries`);
      for (const [i, q] of list.entries()) diagnoseQuery(q, `${path}/bool/${clause}/${i}`);
    }
    return;
  }
  if (isObject(params)) checkFieldName(params.field, `${key} at ${at}`);
  const error =
    leafChecks.get(key) === undefined ? undefined : firstError(leafChecks.get(key) as ReturnType<typeof TypeCompiler.Compile>, value);
  if (error !== undefined) throw invalid(`${key} at ${at} is invalid: ${error}`);
}

const AGG_KINDS: readonly string[] = [
  'terms',
  'date_histogram',
  'auto_date_histogram',
  'histogram',
  'filter',
  'sum',
  'avg',
  'min',
  'max',
  'stats',
  'cardinality',
];
const aggParamChecks = new Map<string, ReturnType<typeof TypeCompiler.Compile>>([
  ['terms', TypeCompiler.Compile(TermsParams)],
  ['date_histogram', TypeCompiler.Compile(DateHistogramParams)],
  ['auto_date_histogram', TypeCompiler.Compile(AutoDateHistogramParams)],
  ['histogram', TypeCompiler.Compile(HistogramParams)],
  ...['sum', 'avg', 'min', 'max', 'stats', 'cardinality'].map(
    (k) => [k, TypeCompiler.Compile(Type.Object({ field: FieldName }, { additionalProperties: false }))] as const,
  ),
]);

function diagnoseAggs(value: unknown, at: string): void {
  if (!isObject(value)) throw invalid(`aggs at ${at} must be an object of named aggregations`);
  for (const [name, agg] of Object.entries(value)) {
    const where = `aggregation "${at}${name}"`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(`aggregation name ${shown(name)} is invalid: use letters, digits and '_'`);
    if (!isObject(agg)) throw invalid(`${where} must be an object`);
    const kinds = Object.keys(agg).filter((k) => k !== 'aggs');
    if (kinds.length !== 1) throw invalid(`${where} must have exactly one of: ${AGG_KINDS.join(', ')} (and optionally aggs)`);
    const kind = kinds[0] as string;
    if (!AGG_KINDS.includes(kind))
      throw unsupported(`${where}: aggregation type "${kind}" is not supported (supported: ${AGG_KINDS.join(', ')})`);
    const params = agg[kind];
    if (kind === 'filter') {
      if (!isObject(params) || !('query' in params) || Object.keys(params).length !== 1) throw invalid(`${where}: filter must be {query}`);
      diagnoseQuery(params.query, `${where}/filter/query`);
    } else {
      if (isObject(params)) checkFieldName(params.field, where);
      const check = aggParamChecks.get(kind);
      const error = check === undefined ? undefined : firstError(check, params);
      if (error !== undefined) throw invalid(`${where}: ${kind} is invalid: ${error}`);
    }
    if ('aggs' in agg) {
      if (['sum', 'avg', 'min', 'max', 'stats', 'cardinality'].includes(kind))
        throw invalid(`${where}: a ${kind} aggregation cannot have sub-aggregations`);
      diagnoseAggs(agg.aggs, `${at}${name}.`);
    }
  }
}

const RANGE_TYPES: ReadonlySet<FieldType> = new Set(['keyword', 'number', 'date', 'flattened']);
const PATTERN_TYPES: ReadonlySet<FieldType> = new Set(['keyword', 'text', 'flattened']);

function allowed(types: ReadonlySet<FieldType>, type: FieldType, node: string, field: string): void {
  if (!types.has(type))
    throw invalid(`${node} on field "${field}" is not supported: it is a ${type} field (use it on ${[...types].join(' or ')} fields)`);
}

function walkQuery(query: Query, spec: ResolvedSpec): void {
  if ('bool' in query) {
    const b = query.bool;
    for (const clauses of [b.must, b.should, b.must_not, b.filter]) for (const clause of clauses ?? []) walkQuery(clause, spec);
  } else if ('term' in query) queryValue(query.term.field, fieldType(spec, query.term.field, 'term'), query.term.value);
  else if ('terms' in query) {
    const type = fieldType(spec, query.terms.field, 'terms');
    for (const value of query.terms.values) queryValue(query.terms.field, type, value);
  } else if ('range' in query) {
    const r = query.range;
    const type = fieldType(spec, r.field, 'range');
    allowed(RANGE_TYPES, type, 'range', r.field);
    if (r.gt === undefined && r.gte === undefined && r.lt === undefined && r.lte === undefined) {
      throw invalid(`range on field "${r.field}" needs at least one of gt, gte, lt, lte`);
    }
    for (const bound of [r.gt, r.gte, r.lt, r.lte]) {
      if (bound === undefined) continue;
      if (type === 'date') dateBound(bound, r.field, false);
      else queryValue(r.field, type, bound);
    }
  } else if ('prefix' in query) allowed(PATTERN_TYPES, fieldType(spec, query.prefix.field, 'prefix'), 'prefix', query.prefix.field);
  else if ('wildcard' in query) allowed(PATTERN_TYPES, fieldType(spec, query.wildcard.field, 'wildcard'), 'wildcard', query.wildcard.field);
  else if ('exists' in query) fieldType(spec, query.exists.field, 'exists');
  else if ('match' in query) {
    if (query.match.field !== undefined) {
      const type = fieldType(spec, query.match.field, 'match');
      if (type !== 'text') queryValue(query.match.field, type, query.match.query);
    } else if (spec.text.size === 0) throw invalid(`match without a field needs a text field, and index "${spec.name}" declares none`);
  }
}

/** Checks a query's shape and fields against an index; returns it typed. */
export function checkQuery(query: unknown, spec: ResolvedSpec): Query {
  checkShape(QueryCheck, query, 'query', (v) => diagnoseQuery(v, ''));
  const typed = query as Query;
  walkQuery(typed, spec);
  return typed;
}

export function checkSort(sort: unknown, spec: ResolvedSpec): SortSpec[] {
  checkShape(SortCheck, sort, 'sort', (v) => {
    if (Array.isArray(v)) for (const [i, s] of v.entries()) if (isObject(s)) checkFieldName(s.field, `sort[${i}]`);
  });
  const typed = sort as SortSpec[];
  for (const s of typed) fieldType(spec, s.field, 'sort');
  return typed;
}

export function checkPage(offset: unknown, limit: unknown, defaultLimit = DEFAULT_LIMIT): { offset: number; limit: number } {
  const o = offset ?? 0;
  const l = limit ?? defaultLimit;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) throw invalid(`offset ${shown(o)} is invalid: use an integer >= 0`);
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 0) throw invalid(`limit ${shown(l)} is invalid: use an integer >= 0`);
  if (o + l > MAX_RESULT_WINDOW)
    throw invalid(
      `offset + limit is ${o + l}, above the maximum of ${MAX_RESULT_WINDOW}: narrow the query or page with a range on a sorted field`,
    );
  return { offset: o, limit: l };
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['number']);
const NUMERIC_OR_DATE: ReadonlySet<FieldType> = new Set(['number', 'date']);
const SINGLE_VALUE = new Set(['sum', 'avg', 'min', 'max', 'cardinality']);

function walkAggs(aggs: Record<string, Aggregation>, spec: ResolvedSpec, path: string): void {
  for (const [name, agg] of Object.entries(aggs)) {
    const at = `aggregation "${path}${name}"`;
    const kind = aggregationKind(agg);
    if ('terms' in agg) {
      fieldType(spec, agg.terms.field, at);
      const key = agg.terms.order === undefined ? undefined : Object.keys(agg.terms.order)[0];
      if (key !== undefined && key !== '_count' && key !== '_key') {
        const [sub, prop] = key.split('.');
        const target = sub === undefined ? undefined : agg.aggs?.[sub];
        const targetKind = target === undefined ? undefined : aggregationKind(target);
        const ok = targetKind !== undefined && (prop === undefined ? SINGLE_VALUE.has(targetKind) : targetKind === 'stats');
        if (!ok)
          throw invalid(
            `${at}: order "${key}" must name a sum/avg/min/max/cardinality sub-aggregation (or stats with .count/.min/.max/.avg/.sum)`,
          );
      }
    } else if ('date_histogram' in agg) {
      const p = agg.date_histogram;
      allowed(new Set(['date']), fieldType(spec, p.field, at), 'date_histogram', p.field);
      if ((p.calendar_interval === undefined) === (p.fixed_interval === undefined))
        throw invalid(`${at}: give exactly one of calendar_interval and fixed_interval`);
      if (p.calendar_interval !== undefined) parseCalendarInterval(p.calendar_interval);
      if (p.fixed_interval !== undefined) parseFixedInterval(p.fixed_interval);
    } else if ('auto_date_histogram' in agg) {
      const field = agg.auto_date_histogram.field;
      allowed(new Set(['date']), fieldType(spec, field, at), 'auto_date_histogram', field);
    } else if ('histogram' in agg) {
      allowed(NUMERIC, fieldType(spec, agg.histogram.field, at), 'histogram', agg.histogram.field);
    } else if ('filter' in agg) {
      walkQuery(agg.filter.query, spec);
    } else if ('cardinality' in agg) {
      fieldType(spec, agg.cardinality.field, at);
    } else {
      const field = metricField(agg);
      const types = kind === 'min' || kind === 'max' || kind === 'avg' ? NUMERIC_OR_DATE : NUMERIC;
      allowed(types, fieldType(spec, field, at), kind, field);
    }
    if ('aggs' in agg && agg.aggs !== undefined) walkAggs(agg.aggs, spec, `${path}${name}.`);
  }
}

/** The field of a metric aggregation (sum/avg/min/max/stats/cardinality). */
export function metricField(agg: Aggregation): string {
  if ('sum' in agg) return agg.sum.field;
  if ('avg' in agg) return agg.avg.field;
  if ('min' in agg) return agg.min.field;
  if ('max' in agg) return agg.max.field;
  if ('stats' in agg) return agg.stats.field;
  if ('cardinality' in agg) return agg.cardinality.field;
  throw invalid('not a metric aggregation');
}

export function checkAggs(aggs: unknown, spec: ResolvedSpec): Record<string, Aggregation> {
  checkShape(AggsCheck, aggs, 'aggs', (v) => diagnoseAggs(v, ''));
  const typed = aggs as Record<string, Aggregation>;
  walkAggs(typed, spec, '');
  return typed;
}
