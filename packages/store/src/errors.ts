/** The store's error catalog: one class, a kind per failure the caller can act on, each with its HTTP status and REST code. */

export type StoreErrorKind = 'invalid' | 'notfound' | 'conflict' | 'unavailable' | 'unsupported';

/** HTTP status and `SHALLOT_ERR_*` code per kind, for services that turn store errors into REST errors. */
export const STORE_ERROR_KINDS: Readonly<Record<StoreErrorKind, { statusCode: number; code: string }>> = {
  invalid: { statusCode: 400, code: 'SHALLOT_ERR_STORE_INVALID' },
  notfound: { statusCode: 404, code: 'SHALLOT_ERR_STORE_NOT_FOUND' },
  conflict: { statusCode: 409, code: 'SHALLOT_ERR_STORE_CONFLICT' },
  unavailable: { statusCode: 503, code: 'SHALLOT_ERR_STORE_UNAVAILABLE' },
  unsupported: { statusCode: 400, code: 'SHALLOT_ERR_STORE_UNSUPPORTED' },
};

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly kind: StoreErrorKind;
  readonly code: string;
  readonly statusCode: number;

  constructor(kind: StoreErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.code = STORE_ERROR_KINDS[kind].code;
    this.statusCode = STORE_ERROR_KINDS[kind].statusCode;
  }
}

export function isStoreError(error: unknown, kind?: StoreErrorKind): error is StoreError {
  return error instanceof StoreError && (kind === undefined || error.kind === kind);
}

export const invalid = (message: string, cause?: unknown): StoreError => new StoreError('invalid', message, { cause });
export const unsupported = (message: string): StoreError => new StoreError('unsupported', message);

/** Longest rendering of a request value inside an error message. */
export const MAX_SHOWN = 200;

/**
 * A request value for an error message: JSON for scalars and small values, cut at MAX_SHOWN characters; objects and
 * arrays are described by shape, never serialized whole (a 1 MB or 5,000-level value must not come back).
 */
export function shown(value: unknown): string {
  let text: string;
  if (Array.isArray(value)) text = `an array of ${value.length}`;
  else if (typeof value === 'object' && value !== null) text = 'an object';
  else text = String(JSON.stringify(value) ?? value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters)` : text;
}
