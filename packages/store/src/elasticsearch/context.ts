/** What the Elasticsearch collections and indexes share: the client, naming, refresh policy and error mapping. */
import type { Client } from '@elastic/elasticsearch';
import { mapEsError, statusOf } from './errors.js';

export type Refresh = 'wait_for' | boolean;

export class EsContext {
  readonly client: Client;
  readonly url: string;
  readonly prefix: string;
  readonly refresh: Refresh;

  constructor(client: Client, url: string, prefix: string, refresh: Refresh) {
    this.client = client;
    this.url = url;
    this.prefix = prefix;
    this.refresh = refresh;
  }

  /** Runs a client call; errors become StoreErrors naming the operation. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapEsError(error, this.url, what);
    }
  }

  /** The StoreError for a failed operation (for callers that handle some statuses themselves). */
  error(what: string, error: unknown): unknown {
    return mapEsError(error, this.url, what);
  }

  /** Like call, but a 404 (document or index missing) yields `fallback`. */
  async orMissing<T, F>(what: string, fn: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      return await fn();
    } catch (error) {
      if (statusOf(error) === 404) return fallback;
      throw mapEsError(error, this.url, what);
    }
  }
}
