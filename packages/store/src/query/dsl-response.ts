/**
 * Elasticsearch search responses from the store's results, for clients of the query DSL (`fromDsl`): the envelope
 * (`took`, `hits.total.value` + `relation`, `hits.hits[]` with `_index`, `_id`, `_source`) and the aggregations the
 * parse plan rebuilds (undeclared fields, filters).
 */
import type { Doc, SearchResult } from '../types.js';
import type { AggPlan, DslSearch, SourceFilter } from './from-dsl.js';
import { wildcardMatch } from './wildcard.js';

export interface DslHit {
  _index: string;
  _id: string;
  /** Every hit scores alike (1) without a sort; null with one, as in Elasticsearch. */
  _score: number | null;
  _source?: Record<string, unknown>;
}

export interface DslResponse {
  took: number;
  timed_out: boolean;
  _shards: { total: number; successful: number; skipped: number; failed: number };
  hits: { total: { value: number; relation: 'eq' | 'gte' }; max_score: number | null; hits: DslHit[] };
  aggregations?: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Rebuilds one level of aggregation results from the engine's (`results`) following the parse plan. */
export function renderAggregations(plans: Record<string, AggPlan>, results: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, plan] of Object.entries(plans)) out[name] = renderOne(plan, results[plan.as ?? name]);
  return out;
}

function renderOne(plan: AggPlan, result: unknown): unknown {
  switch (plan.kind) {
    case 'constant':
      return structuredClone(plan.result);
    case 'native': {
      if (!isObject(result)) return result;
      if (Array.isArray(result.buckets)) {
        return {
          ...result,
          buckets: result.buckets.map((b: unknown) => (isObject(b) ? { ...b, ...renderAggregations(plan.subs, b) } : b)),
        };
      }
      // A single-bucket (filter) result keeps its sub-aggregations beside doc_count; metrics have no plans below.
      return Object.keys(plan.subs).length === 0 ? result : { ...result, ...renderAggregations(plan.subs, result) };
    }
    case 'missing': {
      const filtered = isObject(result) ? result : {};
      const count = typeof filtered.doc_count === 'number' ? filtered.doc_count : 0;
      const buckets =
        count >= Math.max(1, plan.minDocCount) ? [{ key: plan.key, doc_count: count, ...renderAggregations(plan.subs, filtered) }] : [];
      return { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets };
    }
    case 'filters': {
      const outer = isObject(result) ? result : {};
      const bucket = (i: number) => {
        const inner = isObject(outer[`b${i}`]) ? (outer[`b${i}`] as Record<string, unknown>) : {};
        return { doc_count: typeof inner.doc_count === 'number' ? inner.doc_count : 0, ...renderAggregations(plan.subs, inner) };
      };
      if (plan.keys === undefined) {
        const count = Object.keys(outer).filter((k) => /^b\d+$/.test(k)).length;
        return { buckets: Array.from({ length: count }, (_, i) => bucket(i)) };
      }
      return { buckets: Object.fromEntries(plan.keys.map((key, i) => [key, bucket(i)])) };
    }
  }
}

/** A `_source` pattern (`name`, `error.*`, `*_at`) over dotted paths, as a linear-time wildcard (no regex). */
function patternMatcher(pattern: string): { test(path: string): boolean } {
  const escaped = pattern.replace(/[?\\]/g, '\\$&');
  return { test: (path) => wildcardMatch(path, escaped) };
}

/** The document with only the included, non-excluded fields (Elasticsearch source filtering). */
export function filterSource(doc: Record<string, unknown>, filter: Extract<SourceFilter, { enabled: true }>): Record<string, unknown> {
  if (filter.includes.length === 0 && filter.excludes.length === 0) return doc;
  const includes = filter.includes.map((p) => ({ re: patternMatcher(p), literal: p.split('*')[0] ?? '', wild: p.includes('*') }));
  const excludes = filter.excludes.map(patternMatcher);
  const walk = (obj: Record<string, unknown>, prefix: string, included: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (excludes.some((re) => re.test(path))) continue;
      const here = included || includes.length === 0 || includes.some((p) => p.re.test(path));
      if (isObject(value)) {
        // Below an included object only exclusions apply; above one, descend where an include may match deeper.
        const deeper = includes.some((p) => p.literal.startsWith(`${path}.`) || (p.wild && `${path}.`.startsWith(p.literal)));
        if (here || deeper) {
          const kept = walk(value, path, here);
          if (here || Object.keys(kept).length > 0) out[key] = kept;
        }
      } else if (here) out[key] = value;
    }
    return out;
  };
  return walk(doc, '', false);
}

/** The Elasticsearch response for a parsed search and the store's result. */
export function dslResponse(search: DslSearch, result: SearchResult, options: { index: string; took: number }): DslResponse {
  const score = search.sorted ? null : 1;
  const hits = result.hits.map((doc: Doc): DslHit => {
    const hit: DslHit = { _index: options.index, _id: doc.id, _score: score };
    if (search.source.enabled) hit._source = filterSource(doc, search.source);
    return hit;
  });
  const response: DslResponse = {
    took: options.took,
    timed_out: false,
    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
    hits: { total: { value: result.total, relation: 'eq' }, max_score: hits.length === 0 ? null : score, hits },
  };
  if (search.aggs !== undefined) response.aggregations = renderAggregations(search.aggs, result.aggregations ?? {});
  return response;
}
