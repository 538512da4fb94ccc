/** Cluster client errors as StoreErrors: transport failures are 'unavailable', HTTP statuses map to kinds. */
import { StoreError, type StoreErrorKind } from '../errors.js';
import { type Product, URL_VARIABLE, bodyOf, isResponseError, isTransportError, statusOf } from './client.js';

export { statusOf } from './client.js';

interface EsErrorBody {
  error?: {
    type?: string;
    reason?: string;
    root_cause?: Array<{ type?: string; reason?: string }>;
    caused_by?: { reason?: string; caused_by?: { reason?: string } };
  };
}

const PRODUCT_NAME: Record<Product, string> = { elasticsearch: 'Elasticsearch', opensearch: 'OpenSearch' };

/** The most specific reason the cluster gave, for messages a user can act on. */
export function esReason(body: unknown): string | undefined {
  const error = (body as EsErrorBody | undefined)?.error;
  if (error === undefined) return undefined;
  const root = error.root_cause?.[0];
  const deep = error.caused_by?.caused_by?.reason ?? error.caused_by?.reason;
  return [root?.reason ?? error.reason, deep].filter((r) => r !== undefined).join(': ') || error.type;
}

export function kindForStatus(status: number | undefined): StoreErrorKind {
  if (status === 404) return 'notfound';
  if (status === 409) return 'conflict';
  if (status === 400) return 'invalid';
  return 'unavailable';
}

export function mapEsError(error: unknown, url: string, what: string, product: Product = 'elasticsearch'): unknown {
  if (error instanceof StoreError) return error;
  const name = PRODUCT_NAME[product];
  const variable = URL_VARIABLE[product];
  if (isTransportError(error)) {
    return new StoreError(
      'unavailable',
      `${name} at ${url} is unavailable (${what}): ${error.message}; check ${variable} and that the cluster is up`,
      { cause: error },
    );
  }
  if (isResponseError(error)) {
    const status = statusOf(error);
    const reason = esReason(bodyOf(error)) ?? error.message;
    if (status === 401 || status === 403) {
      return new StoreError(
        'unavailable',
        `${name} at ${url} refused ${what} (HTTP ${status}): ${reason}; check the credentials in ${variable}`,
        {
          cause: error,
        },
      );
    }
    return new StoreError(kindForStatus(status), `${name} ${what} failed (HTTP ${status ?? '?'}): ${reason}`, { cause: error });
  }
  return error;
}
