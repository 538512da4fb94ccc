/** The Elasticsearch engine: the scale-out store for deployments that outgrow one machine. */
import { Client } from '@elastic/elasticsearch';
import { StoreError } from '../errors.js';
import { MergeRegistry } from '../merges.js';
import type { MergeDefinition, Store } from '../types.js';
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
  readonly engine = 'elasticsearch' as const;
  readonly collections: EsCollections;
  readonly indexes: EsIndexes;
  readonly prefix: string;
  readonly #es: EsContext;
  readonly #merges = new MergeRegistry();

  constructor(options: ElasticsearchStoreOptions) {
    const { url, prefix = DEFAULT_PREFIX, refresh = 'wait_for', requestTimeoutMs = REQUEST_TIMEOUT_MS, maxRetries = 3 } = options;
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new StoreError(
        'invalid',
        `Elasticsearch prefix "${prefix}" is invalid: use lowercase letters, digits, '_', '-' and '.', starting with a letter or digit`,
      );
    }
    let client: Client;
    try {
      client = new Client({ node: url, requestTimeout: requestTimeoutMs, maxRetries });
    } catch (error) {
      throw new StoreError('invalid', `ELASTICSEARCH_URL ${JSON.stringify(redact(url))} is not a usable URL: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.prefix = prefix;
    this.#es = new EsContext(client, redact(url), prefix, refresh);
    this.collections = new EsCollections(this.#es);
    this.indexes = new EsIndexes(this.#es, this.#merges);
  }

  get client(): Client {
    return this.#es.client;
  }

  registerMerge(merge: MergeDefinition): void {
    this.#merges.register(merge);
  }

  async ping(): Promise<void> {
    await this.#es.call('ping', () => this.#es.client.info());
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
