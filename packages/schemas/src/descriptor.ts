/** API descriptors: each endpoint declared once; routing, validation, docs and handlers derive from them. */
import type { Static, TSchema } from '@sinclair/typebox';

export const SERVICE_NAMES = ['ingest', 'search', 'management', 'job-runner'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';

/**
 * Who may call an endpoint.
 * - `none`: anonymous; `optional`: anonymous, but credentials that are presented must be valid (echo, ping: a
 *   script learns that its key is wrong); `any`: a session or an API key; `session`: a session only (the /api/user namespace);
 * - `admin` or any other string: that privilege (admin implies all).
 */
export type Privilege = 'none' | 'optional' | 'any' | 'session' | 'admin' | (string & {});

/**
 * Where an endpoint lives:
 * - `app`: `/api/app/NAME/v1` and the unversioned `/api/app/NAME` (errors answered with HTTP 200);
 * - `user`: `/api/user/NAME`;
 * - `leek`: the task-monitor API at an explicit `path` (e.g. `/v1/events/process`).
 */
export type Namespace = 'app' | 'user' | 'leek';

export interface ApiDescriptor<TParams extends TSchema = TSchema, TResponse extends TSchema = TSchema> {
  name: string;
  namespace: Namespace;
  /** Explicit path, required for the `leek` namespace (may contain `:params`); optional for `app` (replaces both URLs). */
  path?: string;
  methods: readonly HttpMethod[];
  service: ServiceName;
  privilege: Privilege;
  summary: string;
  /** The /docs section (tag) this call is listed under; derived from the record noun in its name when absent. */
  section?: string;
  /** Request parameters: the query string for GET, the JSON body otherwise (merged, body wins). */
  params?: TParams;
  response: TResponse;
}

/** Identity function that keeps the literal types of a descriptor. */
export function defineApi<TParams extends TSchema, TResponse extends TSchema>(
  descriptor: ApiDescriptor<TParams, TResponse>,
): ApiDescriptor<TParams, TResponse> {
  if (descriptor.namespace === 'leek' && !descriptor.path) {
    throw new Error(`API descriptor ${descriptor.name}: the leek namespace needs an explicit path`);
  }
  return descriptor;
}

export type ParamsOf<D> = D extends ApiDescriptor<infer P, TSchema> ? Static<P> : never;
export type ResponseOf<D> = D extends ApiDescriptor<TSchema, infer R> ? Static<R> : never;

/** Every URL an endpoint answers on. */
export function routePaths(descriptor: ApiDescriptor): string[] {
  switch (descriptor.namespace) {
    case 'app':
      // An explicit path is for the few calls that carry a parameter in the URL (`/api/app/avatar/<username>.png`).
      return descriptor.path ? [descriptor.path] : [`/api/app/${descriptor.name}/v1`, `/api/app/${descriptor.name}`];
    case 'user':
      return [`/api/user/${descriptor.name}`];
    case 'leek': {
      // The task-monitor API answers with and without a trailing slash (leek-agent-protocol §1).
      const path = (descriptor.path as string).replace(/(.)\/$/, '$1');
      return [path, `${path}/`];
    }
  }
}

/** Versioned URLs answer errors with real HTTP statuses; unversioned ones with 200 (older clients rely on it). */
export function isVersionedPath(url: string): boolean {
  return /\/v\d+(\/|$|\?)/.test(url);
}
