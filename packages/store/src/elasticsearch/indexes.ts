/**
 * Indexes on Elasticsearch: an index per (spec, scope) named `<prefix><name>[-<scope>]`, created from an index template;
 * merges as stored Painless scripts run by scripted upserts with `retry_on_conflict`.
 */
import type { estypes } from '@elastic/elasticsearch';
import { StoreError, invalid } from '../errors.js';
import { type MergeRegistry, replaceMerge } from '../merges.js';
import type { Aggregation, AggregationResult, Query } from '../query/ast.js';
import { checkAggs, checkPage, checkQuery, checkSort } from '../query/check.js';
import { compileAggs, compileQuery, compileSort } from '../query/es.js';
import { type ResolvedSpec, resolveSpec } from '../spec.js';
import type {
  BulkOutcome,
  BulkResult,
  BulkUpsertOptions,
  Doc,
  IndexSpec,
  Indexes,
  MergeDefinition,
  RawSearchBody,
  RawSearchResponse,
  Scope,
  SearchRequest,
  SearchResult,
} from '../types.js';
import { checkId, checkScope, isPlainObject } from '../validate.js';
import type { EsContext, Refresh } from './context.js';
import { esReason, kindForStatus, statusOf } from './errors.js';
import { indexMappings } from './mappings.js';

/** Scripted updates of one document by concurrent writers are retried this often. */
export const RETRY_ON_CONFLICT = 10;
/** Documents per bulk request at most. */
export const BULK_CHUNK_DOCS = 5000;
/** Bytes of documents (as JSON) per bulk request at most, well under the clusters' 100 MB `http.max_content_length`. */
export const BULK_CHUNK_BYTES = 8 * 1024 * 1024;
/** A cluster answering 429 (write queue full) is asked again this often, after BACKOFF_BASE_MS doubling. */
export const BACKPRESSURE_RETRIES = 6;
export const BACKOFF_BASE_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Consecutive slices of `docs` of at most `maxDocs` documents and about `maxBytes` (a larger document goes alone). */
export function chunkDocs<T>(docs: readonly T[], maxDocs: number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const doc of docs) {
    const size = Buffer.byteLength(JSON.stringify(doc));
    if (current.length > 0 && (current.length >= maxDocs || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(doc);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Runs `fn`, again after a growing pause while the cluster answers 429 (back-pressure), up to BACKPRESSURE_RETRIES. */
export async function withBackpressure<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (statusOf(error) !== 429 || attempt >= BACKPRESSURE_RETRIES) throw error;
      await sleep(BACKOFF_BASE_MS * 2 ** attempt);
    }
  }
}

const totalOf = (total: number | estypes.SearchTotalHits | undefined): number => (typeof total === 'number' ? total : (total?.value ?? 0));

/** The keys of a search body `searchRaw` passes on; anything else (scripts, runtime mappings, other indices) is refused. */
export const RAW_SEARCH_KEYS = ['query', 'aggs', 'sort', 'from', 'size', 'track_total_hits'] as const;

/** What an aggregation returns over no documents (Elasticsearch omits aggregations when no index exists yet). */
export function emptyAggregations(aggs: Record<string, Aggregation>): Record<string, AggregationResult> {
  const out: Record<string, AggregationResult> = {};
  for (const [name, agg] of Object.entries(aggs)) {
    if ('terms' in agg) out[name] = { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] };
    else if ('histogram' in agg || 'date_histogram' in agg) out[name] = { buckets: [] };
    else if ('auto_date_histogram' in agg) out[name] = { buckets: [], interval: '1s' };
    else if ('filter' in agg) out[name] = { doc_count: 0, ...(agg.aggs === undefined ? {} : emptyAggregations(agg.aggs)) };
    else if ('stats' in agg) out[name] = { count: 0, min: null, max: null, avg: null, sum: 0 };
    else if ('sum' in agg || 'cardinality' in agg) out[name] = { value: 0 };
    else out[name] = { value: null };
  }
  return out;
}

export class EsIndexes implements Indexes {
  readonly #es: EsContext;
  readonly #merges: MergeRegistry;
  readonly #specs = new Map<string, ResolvedSpec>();
  /** Stored scripts put in this process, by merge name, with the source they were put with. */
  readonly #scripts = new Map<string, { source: string; put: Promise<void> }>();

  constructor(es: EsContext, merges: MergeRegistry) {
    this.#es = es;
    this.#merges = merges;
  }

  #base(name: string): string {
    return `${this.#es.prefix}${name}`;
  }

  /** `<prefix><name>` for the unscoped '' scope, `<prefix><name>-<scope>` otherwise. */
  indexName(index: string, scope: Scope): string {
    checkScope(scope);
    return scope === '' ? this.#base(index) : `${this.#base(index)}-${scope}`;
  }

  scriptId(merge: string): string {
    return `${this.#es.prefix}merge-${merge}`;
  }

  async ensure(spec: IndexSpec): Promise<void> {
    const resolved = resolveSpec(spec);
    const base = this.#base(resolved.name);
    const mappings = indexMappings(resolved, this.#es.client);
    await this.#es.call(`put index template ${base}`, () =>
      this.#es.client.indices.putIndexTemplate({
        name: base,
        index_patterns: [base, `${base}-*`],
        // Longer names are more specific: overlapping templates of different prefixes never share a priority.
        priority: 100 + base.length,
        template: { mappings },
      }),
    );
    // Indices created before a spec change get the new fields (a changed field type fails here with 'invalid').
    await this.#es.orMissing(
      `update mappings of ${base}`,
      () =>
        this.#es.client.indices.putMapping({
          index: [base, `${base}-*`],
          allow_no_indices: true,
          ignore_unavailable: true,
          expand_wildcards: 'open',
          dynamic: mappings.dynamic,
          properties: mappings.properties ?? {},
        }),
      undefined,
    );
    this.#specs.set(resolved.name, resolved);
    if (resolved.merge !== undefined && resolved.merge !== 'replace') {
      const merge = this.#mergeIfRegistered(resolved.merge);
      if (merge !== undefined) await this.#ensureScript(merge);
    }
  }

  #mergeIfRegistered(name: string): MergeDefinition | undefined {
    try {
      return this.#merges.get(name);
    } catch {
      return undefined;
    }
  }

  #ensureScript(merge: MergeDefinition): Promise<void> {
    const known = this.#scripts.get(merge.name);
    if (known !== undefined && known.source === merge.painless) return known.put;
    const id = this.scriptId(merge.name);
    const put = this.#es
      .call(`put merge script ${id}`, async () => {
        await this.#es.client.putScript({ id, script: { lang: 'painless', source: merge.painless } });
      })
      .catch((error: unknown) => {
        this.#scripts.delete(merge.name);
        throw error;
      });
    this.#scripts.set(merge.name, { source: merge.painless, put });
    return put;
  }

  #spec(index: string): ResolvedSpec {
    const resolved = this.#specs.get(index);
    if (resolved === undefined)
      throw new StoreError('notfound', `index "${index}" is not declared: call store.indexes.ensure(spec) for it at startup`);
    return resolved;
  }

  /** The merge to run, with its stored script in place; undefined when documents simply replace. */
  async #merge(resolved: ResolvedSpec): Promise<MergeDefinition | undefined> {
    const merge = this.#merges.get(resolved.merge ?? 'replace');
    if (merge === replaceMerge) return undefined;
    await this.#ensureScript(merge);
    return merge;
  }

  async get(index: string, scope: Scope, id: string): Promise<Doc | undefined> {
    this.#spec(index);
    const name = this.indexName(index, scope);
    const response = await this.#es.orMissing(
      `get ${name} "${id}"`,
      () => this.#es.client.get<Doc>({ index: name, id: checkId(id) }),
      undefined,
    );
    return response?.found === true ? response._source : undefined;
  }

  async upsert(index: string, scope: Scope, doc: Doc): Promise<Doc | undefined> {
    const resolved = this.#spec(index);
    const name = this.indexName(index, scope);
    if (!isPlainObject(doc)) throw invalid('a document must be an object');
    const id = checkId(doc.id);
    const merge = await this.#merge(resolved);
    if (merge === undefined) {
      await this.#es.call(`index into ${name}`, () =>
        withBackpressure(() => this.#es.client.index({ index: name, id, document: doc, refresh: this.#es.refresh })),
      );
      return doc;
    }
    const response = await this.#es.call(`merge "${merge.name}" into ${name}`, () =>
      withBackpressure(() =>
        this.#es.client.update<Doc>({
          index: name,
          id,
          script: { id: this.scriptId(merge.name), params: { incoming: doc } },
          scripted_upsert: true,
          upsert: {},
          retry_on_conflict: RETRY_ON_CONFLICT,
          refresh: this.#es.refresh,
          _source: true,
        }),
      ),
    );
    if (response.result === 'noop' && response.get?._source === undefined) return this.get(index, scope, id);
    return response.get?._source;
  }

  /**
   * Bulk requests of BULK_CHUNK_DOCS documents. Elasticsearch bulk is not atomic: when any item fails this throws,
   * and the documents that succeeded stay written. Retrying the whole call is safe for idempotent merges
   * (replace, shallow, max-like merges); a counting merge would count the written ones twice.
   *
   * With `outcomes` (or `also`): the previous documents are read with one mget just before the bulk (a concurrent
   * writer of the same id in between makes `previous` stale: the race is accepted, merges stay atomic per id), the
   * merged ones come back from the bulk (`_source`), and a repeated id's previous is the earlier occurrence's result.
   * `also` writes follow as separate bulk requests, in parallel, once the documents are written (not atomic with them).
   */
  async bulkUpsert(index: string, scope: Scope, docs: Doc[], options: BulkUpsertOptions = {}): Promise<BulkResult> {
    const resolved = this.#spec(index);
    const name = this.indexName(index, scope);
    if (!Array.isArray(docs)) throw invalid('docs must be an array');
    for (const doc of docs) {
      if (!isPlainObject(doc)) throw invalid('a document must be an object');
      checkId(doc.id);
    }
    const { also } = options;
    const refresh = options.refresh === false ? false : this.#es.refresh;
    const track = options.outcomes === true || also !== undefined;
    const finish = async (result: BulkResult, outcomes: BulkOutcome[]): Promise<BulkResult> => {
      // Side writes go to different indexes and each waits for its own refresh: sent together, they wait once.
      if (also !== undefined) {
        const sideOptions = options.refresh === false ? { refresh: false as const } : {};
        await Promise.all(also(outcomes).map((write) => this.bulkUpsert(write.index, write.scope, write.docs, sideOptions)));
      }
      if (options.outcomes === true) result.outcomes = outcomes;
      return result;
    };
    if (docs.length === 0) return finish({ written: 0, unchanged: 0 }, []);
    const merge = await this.#merge(resolved);
    const latest = track ? await this.#mget(name, docs) : new Map<string, Doc>();
    const outcomes: BulkOutcome[] = [];
    let written = 0;
    let unchanged = 0;
    const slices = chunkDocs(docs, BULK_CHUNK_DOCS, BULK_CHUNK_BYTES);
    const chunks = slices.length;
    for (const slice of slices) {
      const operations: unknown[][] = slice.map((doc) =>
        merge === undefined
          ? [{ index: { _index: name, _id: doc.id } }, doc]
          : [
              { update: { _index: name, _id: doc.id, retry_on_conflict: RETRY_ON_CONFLICT } },
              {
                script: { id: this.scriptId(merge.name), params: { incoming: doc } },
                scripted_upsert: true,
                upsert: {},
                ...(track ? { _source: true } : {}),
              },
            ],
      );
      const items = await this.#bulk(name, operations, chunks === 1 ? refresh : false);
      const failures: Array<{ id: string; status: number; reason: string }> = [];
      items.forEach((result, i) => {
        if (result.error !== undefined) {
          failures.push({ id: String(result._id), status: result.status, reason: esReason({ error: result.error }) ?? result.error.type });
          return;
        }
        const changed = result.result !== 'noop';
        if (changed) written++;
        else unchanged++;
        const doc = slice[i];
        if (!track || doc === undefined) return;
        const previous = latest.get(doc.id);
        const source = (result as { get?: { _source?: Doc } }).get?._source;
        const current = merge === undefined ? doc : changed ? (source === undefined ? undefined : { ...source, id: doc.id }) : previous;
        outcomes.push({ id: doc.id, previous, current, changed });
        if (current !== undefined) latest.set(doc.id, current);
      });
      if (failures.length > 0) {
        const first = failures[0];
        throw new StoreError(
          kindForStatus(first?.status),
          `bulk upsert into ${name}: ${failures.length} of ${slice.length} documents failed (${written} written before; Elasticsearch bulk is not atomic, retrying is safe for idempotent merges); first: "${first?.id}": ${first?.reason}`,
        );
      }
    }
    if (chunks > 1 && refresh !== false)
      await this.#es.call(`refresh ${name}`, () => this.#es.client.indices.refresh({ index: name }));
    return finish({ written, unchanged }, outcomes);
  }

  /**
   * One bulk request of `operations` (one entry per document), its items in the same order. Back-pressure is retried:
   * a 429 for the whole request, or for some items (the write queue of a node was full: those were not executed), is
   * sent again after a growing pause — only the rejected items, in their order, so nothing is applied twice.
   */
  async #bulk(name: string, operations: unknown[][], refresh: Refresh): Promise<estypes.BulkResponseItem[]> {
    const items: estypes.BulkResponseItem[] = new Array(operations.length);
    let pending = operations.map((_, i) => i);
    for (let attempt = 0; ; attempt++) {
      const sent = pending;
      const response = await this.#es.call(`bulk upsert into ${name}`, () =>
        withBackpressure(() => this.#es.client.bulk({ operations: sent.flatMap((i) => operations[i] ?? []), refresh })),
      );
      const rejected: number[] = [];
      response.items.forEach((container, k) => {
        const i = sent[k];
        if (i === undefined) return;
        const item = container.update ?? container.index;
        if (item?.status === 429 && attempt < BACKPRESSURE_RETRIES) rejected.push(i);
        else if (item !== undefined) items[i] = item;
      });
      if (rejected.length === 0) return items;
      pending = rejected;
      await sleep(BACKOFF_BASE_MS * 2 ** attempt);
    }
  }

  /** The stored documents with these ids (one mget); an index not created yet holds none. */
  async #mget(name: string, docs: Doc[]): Promise<Map<string, Doc>> {
    const ids = [...new Set(docs.map((d) => d.id))];
    const response = await this.#es.orMissing(`mget from ${name}`, () => this.#es.client.mget<Doc>({ index: name, ids }), undefined);
    const found = new Map<string, Doc>();
    for (const item of response?.docs ?? []) {
      if ('found' in item && item.found && item._source !== undefined) found.set(item._id, { ...item._source, id: item._id });
    }
    return found;
  }

  async search(index: string, scope: Scope, request: SearchRequest = {}): Promise<SearchResult> {
    const resolved = this.#spec(index);
    const name = this.indexName(index, scope);
    const query = request.query === undefined ? undefined : checkQuery(request.query, resolved);
    const sort = request.sort === undefined ? undefined : checkSort(request.sort, resolved);
    const aggs = request.aggs === undefined ? undefined : checkAggs(request.aggs, resolved);
    const { offset, limit } = checkPage(request.offset, request.limit);
    const response = await this.#es.call(`search ${name}`, () =>
      this.#es.client.search<Doc>({
        index: name,
        query: compileQuery(query, resolved),
        sort: compileSort(sort, resolved),
        from: offset,
        size: limit,
        track_total_hits: true,
        ignore_unavailable: true,
        allow_no_indices: true,
        ...(aggs === undefined ? {} : { aggs: compileAggs(aggs, resolved, this.#es.client.aggsDialect) }),
      }),
    );
    const result: SearchResult = {
      total: totalOf(response.hits.total),
      hits: response.hits.hits.flatMap((h) => (h._source === undefined ? [] : [h._source])),
    };
    if (aggs !== undefined) {
      // Over no index (a scope never written) Elasticsearch may omit aggregations: fill them in with empty results.
      result.aggregations = {
        ...emptyAggregations(aggs),
        ...(response.aggregations as unknown as Record<string, AggregationResult> | undefined),
      };
    }
    return result;
  }

  /** See Indexes.searchRaw: the body's keys are checked, the index is (index, scope)'s, totals are exact. */
  async searchRaw(index: string, scope: Scope, body: RawSearchBody): Promise<RawSearchResponse> {
    this.#spec(index);
    const name = this.indexName(index, scope);
    if (!isPlainObject(body)) throw invalid('a search body must be an object');
    for (const key of Object.keys(body)) {
      if (!(RAW_SEARCH_KEYS as readonly string[]).includes(key))
        throw invalid(`search body key "${key}" is not accepted (accepted: ${RAW_SEARCH_KEYS.join(', ')})`);
    }
    checkPage(body.from, body.size);
    const response = await this.#es.call(`search ${name}`, () =>
      this.#es.client.search({
        ...body,
        index: name,
        track_total_hits: true,
        ignore_unavailable: true,
        allow_no_indices: true,
      }),
    );
    return response as unknown as RawSearchResponse;
  }

  async count(index: string, scope: Scope, query?: Query): Promise<number> {
    const resolved = this.#spec(index);
    const name = this.indexName(index, scope);
    const q = query === undefined ? undefined : checkQuery(query, resolved);
    const response = await this.#es.call(`count ${name}`, () =>
      this.#es.client.count({ index: name, query: compileQuery(q, resolved), ignore_unavailable: true, allow_no_indices: true }),
    );
    return response.count;
  }

  async deleteByQuery(index: string, scope: Scope, query?: Query): Promise<number> {
    const resolved = this.#spec(index);
    const name = this.indexName(index, scope);
    const q = query === undefined ? undefined : checkQuery(query, resolved);
    const response = await this.#es.orMissing(
      `delete by query in ${name}`,
      () =>
        this.#es.client.deleteByQuery({
          index: name,
          query: compileQuery(q, resolved),
          refresh: true,
          conflicts: 'proceed',
          ignore_unavailable: true,
          allow_no_indices: true,
        }),
      undefined,
    );
    return response?.deleted ?? 0;
  }

  async dropScope(index: string, scope: Scope): Promise<number> {
    this.#spec(index);
    const name = this.indexName(index, scope);
    const count = await this.count(index, scope);
    await this.#es.orMissing(
      `delete index ${name}`,
      () => this.#es.client.indices.delete({ index: name, ignore_unavailable: true }),
      undefined,
    );
    return count;
  }

  async stats(index: string, scope: Scope): Promise<{ count: number; bytes: number }> {
    this.#spec(index);
    const name = this.indexName(index, scope);
    const response = await this.#es.orMissing(
      `stats of ${name}`,
      () => this.#es.client.indices.stats({ index: name, metric: ['docs', 'store'] }),
      undefined,
    );
    const primaries = response?._all.primaries;
    return { count: await this.count(index, scope), bytes: primaries?.store?.size_in_bytes ?? 0 };
  }
}
