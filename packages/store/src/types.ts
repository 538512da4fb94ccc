/** The storage contract every engine implements: collections for definitions, indexes for searchable records. */
import type { Aggregation, AggregationResult, Query, SortSpec } from './query/ast.js';

/** A stored document; engines only require an `id`. */
export type Doc = { id: string } & Record<string, unknown>;

/** A definition record as stored in a collection: server-managed bookkeeping plus the record's own fields. */
export type CollectionRecord = Doc & { revision: number; created: number; modified: number };

/**
 * `flattened`: an object of scalar values under arbitrary keys (dots included, e.g. `{"meta.source": "api"}`), as
 * Elasticsearch's flattened type. `<field>.<key>` queries, sorts and aggregates one key's values as a keyword (values
 * compared as strings: `true`, `5`); the field itself matches any of its values. It cannot be hot.
 */
export type FieldType = 'keyword' | 'text' | 'number' | 'date' | 'boolean' | 'flattened';

/**
 * A searchable index, declared in code (never named by a request).
 * `fields` lists what queries and sorts may use; `hot` fields become real indexed sqlite columns.
 */
export interface IndexSpec {
  name: string;
  fields: Record<string, FieldType>;
  hot?: string[];
  /** Name of a merge registered with the engine; incoming documents are merged into stored ones with it. */
  merge?: string;
  /**
   * Fields that equal the document id wherever they are present (a task's `uuid`): equality queries on them use the
   * primary key, so they need no index of their own. Aggregations and `exists` still read the field.
   */
  idAliases?: string[];
}

/**
 * A merge function: given the stored document (or undefined on first write) and the incoming one,
 * return the document to store, or `undefined` to leave the stored one untouched.
 * Engines run it atomically with respect to other writers of the same id.
 */
export type MergeFn = (stored: Doc | undefined, incoming: Doc) => Doc | undefined;

/** A merge as both engines need it: JS for sqlite, a Painless script for Elasticsearch. */
export interface MergeDefinition {
  name: string;
  js: MergeFn;
  /** Painless source; receives `params.incoming`, may read/write `ctx._source`, set `ctx.op = 'noop'`. */
  painless: string;
}

/** Scope partitions one index (e.g. one Celery application's tasks); validated `^[a-z0-9][a-z0-9_-]{0,99}$`. */
export type Scope = string;

export interface ListOptions {
  offset?: number;
  limit?: number;
  /** Equality filters on top-level fields. */
  where?: Record<string, string | number | boolean>;
  sort?: SortSpec[];
}

export interface Page<T> {
  rows: T[];
  total: number;
}

export interface Collections {
  get(collection: string, id: string): Promise<CollectionRecord | undefined>;
  list(collection: string, options?: ListOptions): Promise<Page<CollectionRecord>>;
  /** Fails with a StoreError of kind 'conflict' when the id exists. Sets revision 1, created, modified. */
  create(collection: string, record: Doc): Promise<CollectionRecord>;
  /** Shallow merge; bumps revision and modified. `expectRevision` gives optimistic concurrency. Kind 'notfound' when absent. */
  update(collection: string, id: string, patch: Record<string, unknown>, options?: { expectRevision?: number }): Promise<CollectionRecord>;
  /** Writes only the given fields (used by multi_update sort_order); does not bump revision. */
  patchMany(collection: string, patches: Array<{ id: string; fields: Record<string, unknown> }>): Promise<number>;
  /** Returns false when the id was absent. */
  delete(collection: string, id: string): Promise<boolean>;
}

export interface SearchRequest {
  query?: Query;
  sort?: SortSpec[];
  offset?: number;
  limit?: number;
  aggs?: Record<string, Aggregation>;
}

export interface SearchResult {
  total: number;
  hits: Doc[];
  aggregations?: Record<string, AggregationResult>;
}

/** The parts of an Elasticsearch search body `searchRaw` accepts. */
export interface RawSearchBody {
  query?: unknown;
  aggs?: Record<string, unknown>;
  sort?: unknown[];
  from?: number;
  size?: number;
  track_total_hits?: boolean;
}

/** Elasticsearch's search response, as far as callers of `searchRaw` read it. */
export interface RawSearchResponse {
  took: number;
  timed_out: boolean;
  _shards?: unknown;
  hits: {
    total?: { value: number; relation: string } | number;
    max_score?: number | null;
    hits: Array<{ _index: string; _id?: string; _score?: number | null; _source?: Record<string, unknown>; sort?: unknown[] }>;
  };
  aggregations?: Record<string, unknown>;
}

export interface BulkResult {
  written: number;
  /** Documents the merge left untouched. */
  unchanged: number;
  /** One per input document, in input order; only with `outcomes: true`. */
  outcomes?: BulkOutcome[];
}

/** What a bulk upsert did to one document. */
export interface BulkOutcome {
  id: string;
  /** The stored document before this write; undefined when there was none. */
  previous: Doc | undefined;
  /** The stored document after this write (the previous one when unchanged); undefined when nothing is stored. */
  current: Doc | undefined;
  /** The merge wrote a new version; false when it left the stored document untouched (skip). */
  changed: boolean;
}

/** Documents for another index, written together with a bulk upsert (through that index's merge). */
export interface BulkWrite {
  index: string;
  scope: Scope;
  docs: Doc[];
}

export interface BulkUpsertOptions {
  /** Answer each document's outcome (`previous`, `current`, `changed`) in `BulkResult.outcomes`. */
  outcomes?: boolean;
  /**
   * Further writes derived from the outcomes (dead letters, counters…), called once with every outcome.
   * - sqlite: called inside the same transaction; the documents and these writes commit together or not at all.
   * - Elasticsearch: called after the documents' bulk succeeded and sent as further bulk requests; not atomic — when
   *   they fail the call throws and the documents stay written.
   * Must be synchronous and must not touch the store itself.
   */
  also?: (outcomes: readonly BulkOutcome[]) => BulkWrite[];
  /**
   * Search engines only: `false` answers once the write is durable, without waiting until searches see it (they do
   * after the index's refresh interval, about 1 s). Default: the engine's refresh policy (`wait_for`). SQLite writes
   * are searchable when they commit.
   */
  refresh?: false;
}

/** The arguments of one `bulkUpsert`, as one value (for `SqliteIndexes.bulkUpsertGroup`). */
export interface BulkUpsertCall {
  index: string;
  scope: Scope;
  docs: Doc[];
  options?: BulkUpsertOptions;
}

/** What became of one call of a group: its result, or the error that rolled it back alone. */
export type BulkGroupOutcome = { result: BulkResult } | { error: unknown };

export interface Indexes {
  /** Creates tables / index templates for a spec; idempotent. */
  ensure(spec: IndexSpec): Promise<void>;
  get(index: string, scope: Scope, id: string): Promise<Doc | undefined>;
  /** Upserts one document through the index's merge (or replaces it when the index has none). */
  upsert(index: string, scope: Scope, doc: Doc): Promise<Doc | undefined>;
  /**
   * All-or-nothing on sqlite: either every document (and every `also` write) is merged and durable, or none is
   * (throws). Elasticsearch bulk is not atomic (see the engine). With `outcomes`, answers what happened to each
   * document; on Elasticsearch `previous` is read (mget) just before the bulk, so a concurrent writer of the same id in
   * between makes it stale.
   */
  bulkUpsert(index: string, scope: Scope, docs: Doc[], options?: BulkUpsertOptions): Promise<BulkResult>;
  search(index: string, scope: Scope, request: SearchRequest): Promise<SearchResult>;
  /**
   * Elasticsearch engine only: runs a search body (already checked and compiled from the AST by the caller) on the
   * index of (index, scope) and answers Elasticsearch's own response. The index always comes from the arguments; the
   * body may hold only RAW_SEARCH_KEYS.
   */
  searchRaw?(index: string, scope: Scope, body: RawSearchBody): Promise<RawSearchResponse>;
  count(index: string, scope: Scope, query?: Query): Promise<number>;
  deleteByQuery(index: string, scope: Scope, query?: Query): Promise<number>;
  /** Drops every document of one scope. */
  dropScope(index: string, scope: Scope): Promise<number>;
  /** Document count and approximate size of one scope. */
  stats(index: string, scope: Scope): Promise<{ count: number; bytes: number }>;
}

export interface Store {
  readonly engine: 'sqlite' | 'elasticsearch' | 'opensearch';
  readonly collections: Collections;
  readonly indexes: Indexes;
  registerMerge(merge: MergeDefinition): void;
  /** Resolves when the engine answers; throws a StoreError of kind 'unavailable' otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
