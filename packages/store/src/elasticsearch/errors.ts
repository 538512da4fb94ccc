/** Elasticsearch client errors as StoreErrors: transport failures are 'unavailable', HTTP statuses map to kinds. */
import { errors } from '@elastic/elasticsearch';
import { StoreError, type StoreErrorKind } from '../errors.js';

interface EsErrorBody {
  error?: {
    type?: string;
    reason?: string;
    root_cause?: Array<{ type?: string; reason?: string }>;
    caused_by?: { reason?: string; caused_by?: { reason?: string } };
  };
}

/** The most specific reason Elasticsearch gave, for messages a user can act on. */
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

export function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}

export function mapEsError(error: unknown, url: string, what: string): unknown {
  if (error instanceof StoreError) return error;
  if (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    error instanceof errors.ProductNotSupportedError
  ) {
    return new StoreError(
      'unavailable',
      `Elasticsearch at ${url} is unavailable (${what}): ${error.message}; check ELASTICSEARCH_URL and that the cluster is up`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode;
    const reason = esReason(error.body) ?? error.message;
    if (status === 401 || status === 403) {
      return new StoreError(
        'unavailable',
        `Elasticsearch at ${url} refused ${what} (HTTP ${status}): ${reason}; check the credentials in ELASTICSEARCH_URL`,
        { cause: error },
      );
    }
    return new StoreError(kindForStatus(status), `Elasticsearch ${what} failed (HTTP ${status ?? '?'}): ${reason}`, { cause: error });
  }
  return error;
}
