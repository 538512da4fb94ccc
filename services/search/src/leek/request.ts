/** What a task-monitor search request carries besides its body: the URL page (§5) and the environment header (§1.2). */
import { LeekError } from '@shallot/core';
import { LEEK_SEARCH_MAX_PAGE_PARAM, isAppEnv } from '@shallot/schemas';
import type { FastifyRequest } from 'fastify';

export interface SearchPage {
  size: number;
  from: number;
}

const PAGE_PARAMS: Readonly<Record<string, keyof SearchPage>> = { size: 'size', from_: 'from' };

/**
 * The URL's `size` and `from_`: integers 0–100 000, each 0 when absent (so hits come only when the client asks, as
 * in the reference); any other key → 400 `400002`. They override the body's `size` and `from`.
 */
export function searchPage(query: unknown): SearchPage {
  const page: SearchPage = { size: 0, from: 0 };
  const params = typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
  for (const [key, raw] of Object.entries(params)) {
    const field = Object.hasOwn(PAGE_PARAMS, key) ? PAGE_PARAMS[key] : undefined;
    if (field === undefined) throw new LeekError('invalid', `Unknown query parameter "${key}": only size and from_ are accepted`);
    const value = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value <= LEEK_SEARCH_MAX_PAGE_PARAM))
      throw new LeekError('invalid', `Query parameter ${key} must be an integer from 0 to ${LEEK_SEARCH_MAX_PAGE_PARAM}`);
    page[field] = value;
  }
  return page;
}

/**
 * The `x-leek-app-env` header, validated (lower-case letters) whenever it is sent; `required` → 400 `400001` when
 * it is missing. It never reaches a storage name: it only filters documents.
 */
export function leekEnvHeader(request: FastifyRequest, required: true): string;
export function leekEnvHeader(request: FastifyRequest, required: false): string | undefined;
export function leekEnvHeader(request: FastifyRequest, required: boolean): string | undefined {
  const value = request.headers['x-leek-app-env'];
  if (value === undefined || value === '') {
    if (required) throw new LeekError('headerMissing', 'The x-leek-app-env header is required');
    return undefined;
  }
  if (!isAppEnv(value)) throw new LeekError('invalid', 'x-leek-app-env must be lower-case letters only');
  return value;
}
