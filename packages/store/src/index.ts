/** @shallot/store: collections and searchable indexes behind one interface, on sqlite or Elasticsearch. */
import { ElasticsearchStore, type ElasticsearchStoreOptions } from './elasticsearch/engine.js';
import { StoreError } from './errors.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/engine.js';
import type { Store } from './types.js';

export type * from './types.js';
export * from './query/ast.js';
export { StoreError, STORE_ERROR_KINDS, isStoreError, shown, type StoreErrorKind } from './errors.js';
export { BUILTIN_MERGES, replaceMerge, shallowMerge } from './merges.js';
export { DEFAULT_LIMIT, MAX_BUCKETS, MAX_RESULT_WINDOW, checkAggs, checkQuery, checkSort } from './query/check.js';
export { compileAggs as compileAggsToEs, compileQuery as compileQueryToEs, compileSort as compileSortToEs } from './query/es.js';
export { SqlCompiler, type Sql } from './query/sql.js';
export * from './query/from-dsl.js';
export { type DslHit, type DslResponse, dslResponse, filterSource, renderAggregations } from './query/dsl-response.js';
export { type ResolvedSpec, resolveSpec } from './spec.js';
export { toEpochMs } from './dates.js';
export { NAME_PATTERN, SCOPE_PATTERN, FIELD_PATTERN } from './validate.js';
export {
  SqliteStore,
  BACKGROUND_CHECKPOINT_AFTER_DOCS,
  BACKGROUND_CHECKPOINT_MS,
  BUSY_TIMEOUT_MS,
  CACHE_SIZE_KIB,
  WAL_AUTOCHECKPOINT_PAGES,
  type SqliteStoreOptions,
} from './sqlite/engine.js';
export { MIGRATIONS, SCHEMA_VERSION } from './sqlite/migrations.js';
export { ElasticsearchStore, DEFAULT_PREFIX, type ElasticsearchStoreOptions } from './elasticsearch/engine.js';
export { RAW_SEARCH_KEYS, emptyAggregations } from './elasticsearch/indexes.js';
export {
  type ClusterClient,
  type ClusterInfo,
  type Product,
  MIN_VERSION,
  URL_VARIABLE,
  checkProduct,
  createClusterClient,
} from './elasticsearch/client.js';

export type StoreOptions =
  | ({ engine: 'sqlite' } & SqliteStoreOptions)
  | ({ engine: 'elasticsearch' | 'opensearch' } & Omit<ElasticsearchStoreOptions, 'product'>);

/**
 * Opens a store. sqlite opens (and migrates) the file; Elasticsearch connects lazily (use `ping()` to check it).
 * Both come with the built-in merges `replace` and `shallow` registered.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  switch (options.engine) {
    case 'sqlite':
      return SqliteStore.open(options);
    case 'elasticsearch':
    case 'opensearch': {
      const { engine, ...rest } = options;
      return new ElasticsearchStore({ ...rest, product: engine });
    }
    default:
      throw new StoreError(
        'invalid',
        `unknown store engine ${JSON.stringify((options as { engine?: unknown }).engine)}: use 'sqlite', 'elasticsearch' or 'opensearch'`,
      );
  }
}
export * from './leek/index.js';
