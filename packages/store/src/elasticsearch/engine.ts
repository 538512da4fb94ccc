/**
 * The search-engine engine: the scale-out store for deployments that outgrow one machine, on Elasticsearch 8 or
 * OpenSearch 2.7+/3.x. The logic (mappings, query compilation, Painless merges, bulk outcomes) is shared; the
 * products differ only behind the ClusterClient adapter (./client.ts).
 */
import { StoreError } from '../errors.js';
import { MergeRegistry } from '../merges.js';
import type { MergeDefinition, Store } from '../types.js';
import { type ClusterClient, type Product, URL_VARIABLE, checkProduct, createClusterClient } from './client.js';
import { EsCollections } from './collections.js';
import { EsContext, type Refresh } from './context.js';
import { EsIndexes } from './indexes.js';

/** @default prefix of every index, template and stored script the store creates */
export const DEFAULT_PREFIX = 'shallot-';
/** @default per-request timeout in milliseconds */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Index names must be lowercase and may not start with '-', '_' or '+'. */
const PREFIX_PATTERN = /^([a-z0-9][a-z0-9_.-]{0,49})?$/;

export interface ElasticsearchStoreOptions {
  /**
   * Which product the cluster is: each is reached with its own client library.
   * @default 'elasticsearch'
   */
  product?: Product;
  /** Cluster URL, credentials included when needed (`http://user:pass@host:9200`). */
  url: string;
  /** @default DEFAULT_PREFIX */
  prefix?: string;
  /**
   * Refresh policy of index writes (collections always use 'wait_for'). 'wait_for' makes writes searchable before
   * they return; `false` trades that for throughput.
   * @default 'wait_for'
   */
  refresh?: Refresh;
  /** @default REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** @default 3 */
  maxRetries?: number;
}

export class ElasticsearchStore implements Store {
  readonly engine: Product;
  readonly collections: EsCollections;
  readonly indexes: EsIndexes;
  readonly prefix: string;
  readonly #es: EsContext;
  readonly #merges = new MergeRegistry();

  constructor(options: ElasticsearchStoreOptions) {
    const {
      product = 'elasticsearch',
      url,
      prefix = DEFAULT_PREFIX,
      refresh = 'wait_for',
      requestTimeoutMs = REQUEST_TIMEOUT_MS,
      maxRetries = 3,
    } = options;
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new StoreError(
        'invalid',
        `${product === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} prefix "${prefix}" is invalid: use lowercase letters, digits, '_', '-' and '.', starting with a letter or digit`,
      );
    }
    let client: ClusterClient;
    try {
      client = createClusterClient(product, { url, requestTimeoutMs, maxRetries });
    } catch (error) {
      throw new StoreError(
        'invalid',
        `${URL_VARIABLE[product]} ${JSON.stringify(redact(url))} is not a usable URL: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    this.engine = product;
    this.prefix = prefix;
    this.#es = new EsContext(client, redact(url), prefix, refresh);
    this.collections = new EsCollections(this.#es);
    this.indexes = new EsIndexes(this.#es, this.#merges);
  }

  /** The cluster adapter (tests use it to clean up their indices). */
  get client(): ClusterClient {
    return this.#es.client;
  }

  registerMerge(merge: MergeDefinition): void {
    this.#merges.register(merge);
  }

  /** Reaches the cluster and checks it is the product (and a version) this store was opened for. */
  async ping(): Promise<void> {
    const info = await this.#es.call('ping', () => this.#es.client.info());
    const wrong = checkProduct(this.engine, info);
    if (wrong !== undefined) throw new StoreError('unavailable', `${URL_VARIABLE[this.engine]} ${this.#es.url}: ${wrong}`);
  }

  async close(): Promise<void> {
    await this.#es.client.close();
  }
}

/** The URL without credentials, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = '***';
      parsed.password = '';
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
