/** Compiles the query AST, sorts and aggregations to Elasticsearch DSL; text fields sort and bucket on their `.keyword` sub-field. */
import type { estypes } from '@elastic/elasticsearch';
import { invalid, shown } from '../errors.js';
import { type ResolvedSpec, fieldType, flattenedKey } from '../spec.js';
import { AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS, type Aggregation, type Query, type SortSpec } from './ast.js';

/** The sub-field that makes text fields sortable and aggregatable. */
export const TEXT_KEYWORD_SUBFIELD = 'keyword';

/** The field to use where Elasticsearch needs doc values (sort, terms, cardinality). */
function docValuesField(spec: ResolvedSpec, field: string, usedBy: string): string {
  return fieldType(spec, field, usedBy) === 'text' ? `${field}.${TEXT_KEYWORD_SUBFIELD}` : field;
}

export function compileQuery(query: Query | undefined, spec: ResolvedSpec): estypes.QueryDslQueryContainer {
  if (query === undefined) return { match_all: {} };
  if ('bool' in query) {
    const b = query.bool;
    const out: estypes.QueryDslBoolQuery = {};
    if (b.must !== undefined) out.must = b.must.map((q) => compileQuery(q, spec));
    if (b.filter !== undefined) out.filter = b.filter.map((q) => compileQuery(q, spec));
    if (b.should !== undefined) out.should = b.should.map((q) => compileQuery(q, spec));
    if (b.must_not !== undefined) out.must_not = b.must_not.map((q) => compileQuery(q, spec));
    if (b.minimum_should_match !== undefined) out.minimum_should_match = b.minimum_should_match;
    return { bool: out };
  }
  if ('match_all' in query) return { match_all: {} };
  if ('term' in query) {
    fieldType(spec, query.term.field, 'term');
    return { term: { [query.term.field]: { value: query.term.value } } };
  }
  if ('terms' in query) {
    fieldType(spec, query.terms.field, 'terms');
    return { terms: { [query.terms.field]: query.terms.values } };
  }
  if ('range' in query) {
    const { field, ...bounds } = query.range;
    fieldType(spec, field, 'range');
    return { range: { [field]: bounds } };
  }
  if ('prefix' in query) {
    const { field, value, case_insensitive } = query.prefix;
    fieldType(spec, field, 'prefix');
    return { prefix: { [field]: { value, ...(case_insensitive === true ? { case_insensitive } : {}) } } };
  }
  if ('wildcard' in query) {
    const { field, value, case_insensitive } = query.wildcard;
    fieldType(spec, field, 'wildcard');
    return { wildcard: { [field]: { value, ...(case_insensitive === true ? { case_insensitive } : {}) } } };
  }
  if ('exists' in query) {
    fieldType(spec, query.exists.field, 'exists');
    return { exists: { field: query.exists.field } };
  }
  if ('match' in query) {
    const { field, query: text, operator = 'or' } = query.match;
    if (field === undefined) {
      // cross_fields: with 'and', each word may come from any text field (as FTS on sqlite).
      return { multi_match: { query: text, fields: [...spec.text.keys()], type: 'cross_fields', operator } };
    }
    fieldType(spec, field, 'match');
    return { match: { [field]: { query: text, operator } } };
  }
  throw invalid(`query node ${shown(Object.keys(query))} is not supported`);
}

/** Sorts, with a final `id` tiebreak so pages are stable. */
export function compileSort(sort: SortSpec[] | undefined, spec: ResolvedSpec): estypes.SortCombinations[] {
  const out: estypes.SortCombinations[] = (sort ?? []).map((s) => ({
    [docValuesField(spec, s.field, 'sort')]: { order: s.order, missing: s.missing ?? '_last' },
  }));
  if (!(sort ?? []).some((s) => s.field === 'id')) out.push({ id: { order: 'asc' } });
  return out;
}

/** What differs between products in compiled aggregations (see elasticsearch/client.ts). */
export interface AggsDialect {
  /**
   * The value source of a bucket or metric over one key of a flattened field, when the product cannot aggregate
   * the key's doc values itself (OpenSearch's flat_object); by default the key's path, as on Elasticsearch.
   */
  flattenedValues?(root: string, key: string): { script: estypes.Script };
}

export function compileAggs(
  aggs: Record<string, Aggregation>,
  spec: ResolvedSpec,
  dialect: AggsDialect = {},
): Record<string, estypes.AggregationsAggregationContainer> {
  const out: Record<string, estypes.AggregationsAggregationContainer> = {};
  for (const [name, agg] of Object.entries(aggs)) out[name] = compileAgg(agg, spec, dialect);
  return out;
}

/** `{ field }`, or the dialect's value source for a flattened key. */
function valueSource(
  spec: ResolvedSpec,
  field: string,
  usedBy: string,
  dialect: AggsDialect,
): { field: string } | { script: estypes.Script } {
  const flattened = flattenedKey(spec, field);
  if (flattened !== undefined && dialect.flattenedValues !== undefined) {
    fieldType(spec, field, usedBy);
    return dialect.flattenedValues(flattened.root, flattened.key);
  }
  return { field: docValuesField(spec, field, usedBy) };
}

function compileAgg(agg: Aggregation, spec: ResolvedSpec, dialect: AggsDialect): estypes.AggregationsAggregationContainer {
  const sub = 'aggs' in agg && agg.aggs !== undefined ? { aggs: compileAggs(agg.aggs, spec, dialect) } : {};
  if ('terms' in agg) {
    const { field, size, missing, min_doc_count, order } = agg.terms;
    const terms: estypes.AggregationsTermsAggregation = valueSource(spec, field, 'terms aggregation', dialect);
    if (size !== undefined) terms.size = size;
    if (missing !== undefined) terms.missing = missing;
    if (min_doc_count !== undefined) terms.min_doc_count = min_doc_count;
    // Ties by key ascending, as Elasticsearch does for _count and as the sqlite engine does for every order.
    if (order !== undefined) terms.order = order._key !== undefined ? order : [order, { _key: 'asc' }];
    return { terms, ...sub };
  }
  if ('date_histogram' in agg) {
    const { field, calendar_interval, fixed_interval, min_doc_count = 0, extended_bounds } = agg.date_histogram;
    fieldType(spec, field, 'date_histogram aggregation');
    const dh: estypes.AggregationsDateHistogramAggregation = { field, min_doc_count };
    if (calendar_interval !== undefined) dh.calendar_interval = calendar_interval as estypes.AggregationsCalendarInterval;
    if (fixed_interval !== undefined) dh.fixed_interval = fixed_interval;
    if (extended_bounds !== undefined) dh.extended_bounds = extended_bounds;
    return { date_histogram: dh, ...sub };
  }
  if ('auto_date_histogram' in agg) {
    const { field, buckets = AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS } = agg.auto_date_histogram;
    fieldType(spec, field, 'auto_date_histogram aggregation');
    return { auto_date_histogram: { field, buckets }, ...sub };
  }
  if ('histogram' in agg) {
    const { field, interval, min_doc_count = 0, extended_bounds } = agg.histogram;
    fieldType(spec, field, 'histogram aggregation');
    const h: estypes.AggregationsHistogramAggregation = { field, interval, min_doc_count };
    if (extended_bounds !== undefined) h.extended_bounds = extended_bounds;
    return { histogram: h, ...sub };
  }
  if ('filter' in agg) return { filter: compileQuery(agg.filter.query, spec), ...sub };
  if ('cardinality' in agg) return { cardinality: valueSource(spec, agg.cardinality.field, 'cardinality aggregation', dialect) };
  if ('sum' in agg) return { sum: { field: agg.sum.field } };
  if ('avg' in agg) return { avg: { field: agg.avg.field } };
  if ('min' in agg) return { min: { field: agg.min.field } };
  if ('max' in agg) return { max: { field: agg.max.field } };
  return { stats: { field: agg.stats.field } };
}
