/** The storage contract every engine implements: collections for definitions, indexes for searchable records. */
import type { Aggregation, AggregationResult, Query, SortSpec } from './query/ast.js';

/** A stored document; engines only require an `id`. */
export type Doc = { id: string } & Record<string, unknown>;

/** A definition record as stored in a collection: server-managed bookkeeping plus the record's own fields. */
export type CollectionRecord = Doc & { revision: number; created: number; modified: number };

export type FieldType = 'keyword' | 'text' | 'number' | 'date' | 'boolean';

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

export interface BulkResult {
  written: number;
  /** Documents the merge left untouched. */
  unchanged: number;
}

export interface Indexes {
  /** Creates tables / index templates for a spec; idempotent. */
  ensure(spec: IndexSpec): Promise<void>;
  get(index: string, scope: Scope, id: string): Promise<Doc | undefined>;
  /** Upserts one document through the index's merge (or replaces it when the index has none). */
  upsert(index: string, scope: Scope, doc: Doc): Promise<Doc | undefined>;
  /** All-or-nothing: either every document is merged and durable, or none is (throws). */
  bulkUpsert(index: string, scope: Scope, docs: Doc[]): Promise<BulkResult>;
  search(index: string, scope: Scope, request: SearchRequest): Promise<SearchResult>;
  count(index: string, scope: Scope, query?: Query): Promise<number>;
  deleteByQuery(index: string, scope: Scope, query?: Query): Promise<number>;
  /** Drops every document of one scope. */
  dropScope(index: string, scope: Scope): Promise<number>;
  /** Document count and approximate size of one scope. */
  stats(index: string, scope: Scope): Promise<{ count: number; bytes: number }>;
}

export interface Store {
  readonly engine: 'sqlite' | 'elasticsearch';
  readonly collections: Collections;
  readonly indexes: Indexes;
  registerMerge(merge: MergeDefinition): void;
  /** Resolves when the engine answers; throws a StoreError of kind 'unavailable' otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
