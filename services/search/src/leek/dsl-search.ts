/**
 * Runs a task-monitor search body on one application's index: parsed and checked against the index spec (§7.8), run
 * on the store, answered in Elasticsearch response shape. On the Elasticsearch engine the checked request is compiled
 * and sent as is (`searchRaw`), so the answer is the cluster's own; on sqlite the response is built from the result.
 */
import {
  type DslResponse,
  type DslSearch,
  type IndexSpec,
  type RawSearchBody,
  type ResolvedSpec,
  type Store,
  checkAggs,
  checkQuery,
  checkSort,
  compileAggsToEs,
  compileQueryToEs,
  compileSortToEs,
  dslResponse,
  emptyAggregations,
  filterSource,
  fromDsl,
  renderAggregations,
  resolveSpec,
} from '@shallot/store';
import type { SearchPage } from './request.js';

/** A searchable index of the task monitor: its spec, and how its storage is named in responses (`_index`). */
export interface SearchTarget {
  spec: IndexSpec;
  /** `_index` of the hits, from the scope: the leek namespace names of §1.2. */
  label: (scope: string) => string;
}

const resolved = new WeakMap<IndexSpec, ResolvedSpec>();

function resolvedOf(spec: IndexSpec): ResolvedSpec {
  let r = resolved.get(spec);
  if (r === undefined) {
    r = resolveSpec(spec);
    resolved.set(spec, r);
  }
  return r;
}

export async function runDslSearch(
  store: Store,
  target: SearchTarget,
  scope: string,
  body: unknown,
  page: SearchPage,
): Promise<DslResponse> {
  const spec = resolvedOf(target.spec);
  const search = fromDsl(body, spec, page);
  const started = performance.now();
  if (store.indexes.searchRaw !== undefined) return searchElasticsearch(store, spec, scope, search);
  const result = await store.indexes.search(spec.name, scope, search.request);
  return dslResponse(search, result, { index: target.label(scope), took: Math.round(performance.now() - started) });
}

/** The checked AST compiled to Elasticsearch DSL; the response is the cluster's, with the parse plan's rebuilt parts. */
async function searchElasticsearch(store: Store, spec: ResolvedSpec, scope: string, search: DslSearch): Promise<DslResponse> {
  const { query, sort, aggs, offset = 0, limit = 0 } = search.request;
  const body: RawSearchBody = {
    query: compileQueryToEs(query === undefined ? undefined : checkQuery(query, spec), spec),
    sort: compileSortToEs(sort === undefined ? undefined : checkSort(sort, spec), spec),
    from: offset,
    size: limit,
  };
  if (aggs !== undefined) body.aggs = compileAggsToEs(checkAggs(aggs, spec), spec);
  const raw = await (store.indexes.searchRaw as NonNullable<typeof store.indexes.searchRaw>)(spec.name, scope, body);
  const total = typeof raw.hits.total === 'number' ? raw.hits.total : (raw.hits.total?.value ?? 0);
  const response: DslResponse = {
    took: raw.took,
    timed_out: raw.timed_out,
    _shards: raw._shards as DslResponse['_shards'],
    hits: {
      total: { value: total, relation: 'eq' },
      max_score: raw.hits.max_score ?? null,
      hits: raw.hits.hits.map((h) => ({
        _index: h._index,
        _id: h._id ?? '',
        _score: h._score ?? null,
        ...(search.source.enabled && h._source !== undefined ? { _source: filterSource(h._source, search.source) } : {}),
      })),
    },
  };
  if (search.aggs !== undefined) {
    // An index never written has no aggregations in the cluster's answer: they are empty, not absent.
    const results = { ...(aggs === undefined ? {} : emptyAggregations(aggs)), ...(raw.aggregations ?? {}) };
    response.aggregations = renderAggregations(search.aggs, results);
  }
  return response;
}
