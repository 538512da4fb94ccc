/**
 * The search-engine store speaks to its cluster through this thin adapter: one interface in Elasticsearch 8's request
 * and response shapes, two products behind it. Everything the two differ in lives here, by name:
 * - clients: `@elastic/elasticsearch` 8 refuses any server that is not Elasticsearch (its product check), so
 *   OpenSearch is reached with `@opensearch-project/opensearch`;
 * - envelopes: the OpenSearch client takes `{ ...query-string params, body }` and resolves `{ body, statusCode }`;
 *   the Elasticsearch 8 client takes body fields beside the parameters and resolves the body;
 * - field types: Elasticsearch's `flattened` is OpenSearch's `flat_object` (2.7+, no `ignore_above`);
 * - the product and version check of `info()` (`checkProduct`).
 * Painless (stored scripts, the update script context with `ctx._source`/`ctx.op`, `params`) is the same on both.
 */
import { Client as ElasticClient, errors as elasticErrors, type estypes } from '@elastic/elasticsearch';
import { Client as OpenSearchClient, errors as openSearchErrors } from '@opensearch-project/opensearch';
import type { AggsDialect } from '../query/es.js';

/**
 * The values of one key of a flat_object field, read from `_source` as strings (what Elasticsearch's flattened keeps
 * as keywords). OpenSearch 2.x indexes flat_object keys for queries but its terms aggregation over them returns no
 * buckets on the node holding the shard and fails to serialize its format across nodes (`Unknown NamedWriteable
 * [DocValueFormat][flat_object]`); a script value source has neither problem. A key may itself hold dots.
 */
export const FLAT_OBJECT_VALUES_PAINLESS = `
def v = params._source[params.root];
String rest = params.key;
while (v instanceof Map && !rest.isEmpty()) {
  if (v.containsKey(rest)) { v = v.get(rest); rest = ''; break; }
  int dot = rest.indexOf('.');
  if (dot < 0) { v = null; break; }
  v = v.get(rest.substring(0, dot));
  rest = rest.substring(dot + 1);
}
if (!rest.isEmpty() || v == null || v instanceof Map) { return null; }
if (v instanceof List) {
  List out = new ArrayList();
  for (def x : v) { if (x != null && !(x instanceof Map)) { out.add(String.valueOf(x)); } }
  return out;
}
return String.valueOf(v);
`.trim();

const OPENSEARCH_AGGS: AggsDialect = {
  flattenedValues: (root, key) => ({ script: { lang: 'painless', source: FLAT_OBJECT_VALUES_PAINLESS, params: { root, key } } }),
};

export type Product = 'elasticsearch' | 'opensearch';
export type Refresh = 'wait_for' | boolean;

/** The environment variable that names each product's cluster, for messages. */
export const URL_VARIABLE: Record<Product, string> = { elasticsearch: 'ELASTICSEARCH_URL', opensearch: 'OPENSEARCH_URL' };

/** Oldest version of each product the engine runs on (OpenSearch: `flat_object`, 2.7; Elasticsearch: 8 APIs). */
export const MIN_VERSION: Record<Product, [number, number]> = { elasticsearch: [8, 0], opensearch: [2, 7] };

export interface ClusterInfo {
  version: { number: string; distribution?: string };
}

type Params = Record<string, unknown>;

/** The calls the engine makes, in Elasticsearch 8's shapes (request fields flat, responses as the body). */
export interface ClusterClient {
  readonly product: Product;
  info(): Promise<ClusterInfo>;
  index(params: { index: string; id: string; document: unknown; refresh?: Refresh } & Params): Promise<estypes.IndexResponse>;
  get<T>(params: { index: string; id: string }): Promise<estypes.GetGetResult<T>>;
  update<T>(params: { index: string; id: string } & Params): Promise<estypes.UpdateResponse<T>>;
  delete(params: { index: string; id: string; refresh?: Refresh }): Promise<estypes.DeleteResponse>;
  bulk(params: { operations: unknown[]; refresh?: Refresh }): Promise<estypes.BulkResponse>;
  mget<T>(params: { index: string; ids: string[] }): Promise<estypes.MgetResponse<T>>;
  search<T, A = Record<string, estypes.AggregationsAggregate>>(params: { index: string } & Params): Promise<estypes.SearchResponse<T, A>>;
  count(params: { index: string } & Params): Promise<estypes.CountResponse>;
  deleteByQuery(params: { index: string } & Params): Promise<estypes.DeleteByQueryResponse>;
  putScript(params: { id: string; script: { lang: string; source: string } }): Promise<void>;
  deleteScript(params: { id: string }): Promise<void>;
  storedScriptIds(prefix: string): Promise<string[]>;
  indices: {
    putIndexTemplate(params: { name: string } & Params): Promise<void>;
    deleteIndexTemplate(params: { name: string }): Promise<void>;
    putMapping(params: { index: string | string[] } & Params): Promise<void>;
    exists(params: { index: string }): Promise<boolean>;
    create(params: { index: string } & Params): Promise<void>;
    delete(params: { index: string | string[]; ignore_unavailable?: boolean }): Promise<void>;
    refresh(params: { index: string }): Promise<void>;
    names(pattern: string): Promise<string[]>;
    stats(params: { index: string; metric: string[] }): Promise<estypes.IndicesStatsResponse>;
  };
  /** The mapping of a `flattened` field (ES `flattened`, OpenSearch `flat_object`). */
  flattenedMapping(ignoreAbove: number): estypes.MappingProperty;
  /** How aggregations differ (OpenSearch 2.x cannot bucket a flat_object key by its doc values). */
  readonly aggsDialect: AggsDialect;
  close(): Promise<void>;
}

export interface ClientOptions {
  url: string;
  requestTimeoutMs: number;
  maxRetries: number;
}

/** Keys of each OpenSearch call that go in the request body; the rest are path and query-string parameters. */
const OPENSEARCH_BODY_KEYS = {
  update: ['script', 'scripted_upsert', 'upsert', 'doc', 'doc_as_upsert', 'detect_noop'],
  search: ['query', 'aggs', 'sort', 'from', 'size', 'track_total_hits', 'post_filter', 'search_after'],
  count: ['query'],
  deleteByQuery: ['query'],
  putIndexTemplate: ['index_patterns', 'priority', 'template', 'composed_of', 'version', '_meta'],
  putMapping: ['dynamic', 'properties', 'dynamic_templates', '_source'],
  create: ['mappings', 'settings', 'aliases'],
} as const;

function split(params: Params, bodyKeys: readonly string[]): Params {
  const query: Params = {};
  const body: Params = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (bodyKeys.includes(key)) body[key] = value;
    else query[key] = value;
  }
  return { ...query, body };
}

/** The client calls the adapters make, typed loosely: each adapter builds their parameters itself. */
type Call<R> = (params: Params) => R;
interface LooseApi<R> {
  index: Call<R>;
  get: Call<R>;
  update: Call<R>;
  delete: Call<R>;
  bulk: Call<R>;
  mget: Call<R>;
  search: Call<R>;
  count: Call<R>;
  deleteByQuery: Call<R>;
  putScript: Call<R>;
  deleteScript: Call<R>;
  indices: Record<
    'putIndexTemplate' | 'deleteIndexTemplate' | 'putMapping' | 'exists' | 'create' | 'delete' | 'refresh' | 'get' | 'stats',
    Call<R>
  >;
  cluster: Record<'state', Call<R>>;
}

interface Envelope {
  body: unknown;
}

/** The OpenSearch client's `{ body, statusCode }` envelope, unwrapped. */
async function unwrap<T>(response: Promise<Envelope>): Promise<T> {
  return (await response).body as T;
}

class OpenSearchAdapter implements ClusterClient {
  readonly product = 'opensearch' as const;
  readonly aggsDialect = OPENSEARCH_AGGS;
  readonly #client: OpenSearchClient;

  constructor(options: ClientOptions) {
    this.#client = new OpenSearchClient({ node: options.url, requestTimeout: options.requestTimeoutMs, maxRetries: options.maxRetries });
  }

  // The OpenSearch client's generated request types are per call and stricter than the shared shapes; the adapter
  // builds them from the split parameters, so it calls through one loosely typed signature.
  get #api(): LooseApi<Promise<Envelope>> {
    return this.#client as never;
  }

  info(): Promise<ClusterInfo> {
    return unwrap(this.#client.info());
  }
  index(params: { index: string; id: string; document: unknown } & Params): Promise<estypes.IndexResponse> {
    const { document, ...rest } = params;
    return unwrap(this.#api.index({ ...rest, body: document }));
  }
  get<T>(params: { index: string; id: string }): Promise<estypes.GetGetResult<T>> {
    return unwrap(this.#api.get(params));
  }
  update<T>(params: { index: string; id: string } & Params): Promise<estypes.UpdateResponse<T>> {
    return unwrap(this.#api.update(split(params, OPENSEARCH_BODY_KEYS.update)));
  }
  delete(params: { index: string; id: string }): Promise<estypes.DeleteResponse> {
    return unwrap(this.#api.delete(params));
  }
  bulk(params: { operations: unknown[]; refresh?: Refresh }): Promise<estypes.BulkResponse> {
    const { operations, ...rest } = params;
    return unwrap(this.#api.bulk({ ...rest, body: operations }));
  }
  mget<T>(params: { index: string; ids: string[] }): Promise<estypes.MgetResponse<T>> {
    return unwrap(this.#api.mget({ index: params.index, body: { ids: params.ids } }));
  }
  search<T, A>(params: { index: string } & Params): Promise<estypes.SearchResponse<T, A>> {
    return unwrap(this.#api.search(split(params, OPENSEARCH_BODY_KEYS.search)));
  }
  count(params: { index: string } & Params): Promise<estypes.CountResponse> {
    return unwrap(this.#api.count(split(params, OPENSEARCH_BODY_KEYS.count)));
  }
  deleteByQuery(params: { index: string } & Params): Promise<estypes.DeleteByQueryResponse> {
    return unwrap(this.#api.deleteByQuery(split(params, OPENSEARCH_BODY_KEYS.deleteByQuery)));
  }
  async putScript(params: { id: string; script: { lang: string; source: string } }): Promise<void> {
    await this.#api.putScript({ id: params.id, body: { script: params.script } });
  }
  async deleteScript(params: { id: string }): Promise<void> {
    await this.#api.deleteScript(params);
  }
  async storedScriptIds(prefix: string): Promise<string[]> {
    const state = await unwrap<{ metadata?: { stored_scripts?: Record<string, unknown> } }>(
      this.#api.cluster.state({ metric: 'metadata', filter_path: 'metadata.stored_scripts' }),
    );
    return Object.keys(state.metadata?.stored_scripts ?? {}).filter((id) => id.startsWith(prefix));
  }
  readonly indices: ClusterClient['indices'] = {
    putIndexTemplate: async (params) => {
      await this.#api.indices.putIndexTemplate(split(params, OPENSEARCH_BODY_KEYS.putIndexTemplate));
    },
    deleteIndexTemplate: async (params) => {
      await this.#api.indices.deleteIndexTemplate(params);
    },
    putMapping: async (params) => {
      await this.#api.indices.putMapping(split(params, OPENSEARCH_BODY_KEYS.putMapping));
    },
    exists: async (params) => {
      const response = (await this.#api.indices.exists(params)) as Envelope & { statusCode?: number };
      return response.body === true || response.statusCode === 200;
    },
    create: async (params) => {
      await this.#api.indices.create(split(params, OPENSEARCH_BODY_KEYS.create));
    },
    delete: async (params) => {
      await this.#api.indices.delete(params);
    },
    refresh: async (params) => {
      await this.#api.indices.refresh(params);
    },
    names: async (pattern) =>
      Object.keys(await unwrap<Record<string, unknown>>(this.#api.indices.get({ index: pattern, allow_no_indices: true }))),
    stats: (params) => unwrap(this.#api.indices.stats(params)),
  };
  flattenedMapping(): estypes.MappingProperty {
    return { type: 'flat_object' } as unknown as estypes.MappingProperty;
  }
  close(): Promise<void> {
    return this.#client.close();
  }
}

class ElasticsearchAdapter implements ClusterClient {
  readonly product = 'elasticsearch' as const;
  readonly aggsDialect: AggsDialect = {};
  readonly #client: ElasticClient;

  constructor(options: ClientOptions) {
    this.#client = new ElasticClient({ node: options.url, requestTimeout: options.requestTimeoutMs, maxRetries: options.maxRetries });
  }

  /** The underlying client, loosely typed: requests are built in the shared shapes, which are its own. */
  get #api(): LooseApi<Promise<unknown>> {
    return this.#client as never;
  }

  info(): Promise<ClusterInfo> {
    return this.#client.info();
  }
  index(params: Params): Promise<estypes.IndexResponse> {
    return this.#api.index(params) as Promise<estypes.IndexResponse>;
  }
  get<T>(params: { index: string; id: string }): Promise<estypes.GetGetResult<T>> {
    return this.#client.get<T>(params);
  }
  update<T>(params: Params): Promise<estypes.UpdateResponse<T>> {
    return this.#api.update(params) as Promise<estypes.UpdateResponse<T>>;
  }
  delete(params: { index: string; id: string; refresh?: Refresh }): Promise<estypes.DeleteResponse> {
    return this.#client.delete(params);
  }
  bulk(params: { operations: unknown[]; refresh?: Refresh }): Promise<estypes.BulkResponse> {
    return this.#api.bulk(params) as Promise<estypes.BulkResponse>;
  }
  mget<T>(params: { index: string; ids: string[] }): Promise<estypes.MgetResponse<T>> {
    return this.#client.mget<T>(params);
  }
  search<T, A>(params: Params): Promise<estypes.SearchResponse<T, A>> {
    return this.#api.search(params) as Promise<estypes.SearchResponse<T, A>>;
  }
  count(params: Params): Promise<estypes.CountResponse> {
    return this.#api.count(params) as Promise<estypes.CountResponse>;
  }
  deleteByQuery(params: Params): Promise<estypes.DeleteByQueryResponse> {
    return this.#api.deleteByQuery(params) as Promise<estypes.DeleteByQueryResponse>;
  }
  async putScript(params: { id: string; script: { lang: string; source: string } }): Promise<void> {
    await this.#client.putScript(params);
  }
  async deleteScript(params: { id: string }): Promise<void> {
    await this.#client.deleteScript(params);
  }
  async storedScriptIds(prefix: string): Promise<string[]> {
    const state = (await this.#client.cluster.state({ metric: 'metadata', filter_path: 'metadata.stored_scripts' })) as {
      metadata?: { stored_scripts?: Record<string, unknown> };
    };
    return Object.keys(state.metadata?.stored_scripts ?? {}).filter((id) => id.startsWith(prefix));
  }
  readonly indices: ClusterClient['indices'] = {
    putIndexTemplate: async (params) => {
      await this.#api.indices.putIndexTemplate(params);
    },
    deleteIndexTemplate: async (params) => {
      await this.#client.indices.deleteIndexTemplate(params);
    },
    putMapping: async (params) => {
      await this.#api.indices.putMapping(params);
    },
    exists: (params) => this.#client.indices.exists(params),
    create: async (params) => {
      await this.#api.indices.create(params);
    },
    delete: async (params) => {
      await this.#client.indices.delete(params);
    },
    refresh: async (params) => {
      await this.#client.indices.refresh(params);
    },
    names: async (pattern) => Object.keys(await this.#client.indices.get({ index: pattern, allow_no_indices: true })),
    stats: (params) => this.#api.indices.stats(params) as Promise<estypes.IndicesStatsResponse>,
  };
  flattenedMapping(ignoreAbove: number): estypes.MappingProperty {
    return { type: 'flattened', ignore_above: ignoreAbove };
  }
  close(): Promise<void> {
    return this.#client.close();
  }
}

/** The adapter for `product`; throws (from the client library) when the URL is not usable. */
export function createClusterClient(product: Product, options: ClientOptions): ClusterClient {
  return product === 'opensearch' ? new OpenSearchAdapter(options) : new ElasticsearchAdapter(options);
}

/**
 * Why `info` is not a cluster the engine runs on for `product`, or undefined when it is. OpenSearch answers with
 * `version.distribution: "opensearch"`; Elasticsearch has no distribution field.
 */
export function checkProduct(product: Product, info: ClusterInfo): string | undefined {
  const distribution = info.version.distribution ?? 'elasticsearch';
  if (distribution !== product)
    return `the cluster is ${distribution} ${info.version.number}, not ${product}: use SHALLOT_STORE=${distribution}`;
  const [major = 0, minor = 0] = info.version.number.split('.').map(Number);
  const [minMajor, minMinor] = MIN_VERSION[product];
  if (major < minMajor || (major === minMajor && minor < minMinor))
    return `${product} ${info.version.number} is too old: the store needs ${minMajor}.${minMinor} or newer`;
  return undefined;
}

/** HTTP status of a failed request from either client, or undefined for transport failures and other errors. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof elasticErrors.ResponseError || error instanceof openSearchErrors.ResponseError) return error.statusCode;
  return undefined;
}

/** The response body of a failed request from either client. */
export function bodyOf(error: unknown): unknown {
  if (error instanceof elasticErrors.ResponseError) return error.body;
  if (error instanceof openSearchErrors.ResponseError) return error.body ?? error.meta?.body;
  return undefined;
}

/** True for failures to reach the cluster at all (either client), as opposed to an answer with an error status. */
export function isTransportError(error: unknown): error is Error {
  return (
    error instanceof elasticErrors.ConnectionError ||
    error instanceof elasticErrors.TimeoutError ||
    error instanceof elasticErrors.NoLivingConnectionsError ||
    error instanceof elasticErrors.ProductNotSupportedError ||
    error instanceof openSearchErrors.ConnectionError ||
    error instanceof openSearchErrors.TimeoutError ||
    error instanceof openSearchErrors.NoLivingConnectionsError
  );
}

/** True for a ResponseError from either client. */
export function isResponseError(error: unknown): error is Error {
  return error instanceof elasticErrors.ResponseError || error instanceof openSearchErrors.ResponseError;
}
