/** What the search-engine collections and indexes share: the cluster adapter, naming, refresh policy and error mapping. */
import type { ClusterClient, Refresh } from './client.js';
import { mapEsError, statusOf } from './errors.js';

export type { Refresh } from './client.js';

export class EsContext {
  readonly client: ClusterClient;
  readonly url: string;
  readonly prefix: string;
  readonly refresh: Refresh;

  constructor(client: ClusterClient, url: string, prefix: string, refresh: Refresh) {
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
      throw mapEsError(error, this.url, what, this.client.product);
    }
  }

  /** The StoreError for a failed operation (for callers that handle some statuses themselves). */
  error(what: string, error: unknown): unknown {
    return mapEsError(error, this.url, what, this.client.product);
  }

  /** Like call, but a 404 (document or index missing) yields `fallback`. */
  async orMissing<T, F>(what: string, fn: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      return await fn();
    } catch (error) {
      if (statusOf(error) === 404) return fallback;
      throw mapEsError(error, this.url, what, this.client.product);
    }
  }
}
