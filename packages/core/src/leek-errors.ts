/**
 * Errors of the task-monitor API (`/v1/*`), which keeps its own shape and statuses:
 * `{"error": {"code": 404001, "message": "...", "reason": "..."}}` (spec/leek-management-and-search.md §1.4).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '@shallot/store';
import { kindOf } from './errors.js';
import { capDescription } from './responses.js';

export const LEEK_CODES = {
  headerMissing: [400001, 400, 'Required header missing'],
  invalid: [400002, 400, 'Schema validation failed'],
  authDisabled: [400007, 400, 'Admin management needs user authentication'],
  notEligible: [400008, 400, 'Admin email not in a whitelisted organisation'],
  wrongAppKey: [401001, 401, 'Wrong application key'],
  notOwner: [401002, 401, 'Not the application owner or an admin'],
  unauthorized: [401003, 401, 'Token invalid or organisation not allowed'],
  appNotFound: [404001, 404, 'Application does not exist'],
  appExists: [412001, 412, 'Application already exists'],
  unavailable: [503001, 503, 'Search backend unavailable'],
  internal: [500001, 500, 'Unhandled error'],
  // Control and broker calls (Leek's own codes where it has one).
  taskNotFound: [404001, 404, 'Task does not exist'],
  malformedArgs: [400004, 400, 'Malformed args or kwargs'],
  notRoutable: [400006, 400, 'Task not routable'],
  brokerAccessRefused: [401004, 401, 'Access refused to broker'],
  notRetryable: [412003, 412, 'Task not retryable'],
  notRevocable: [412004, 412, 'Task(s) not revocable'],
  queueNotFound: [404004, 404, 'Queue does not exist'],
  brokerUnreachable: [503002, 503, 'Broker not reachable'],
  noBroker: [501001, 501, 'No broker configured'],
} as const satisfies Record<string, readonly [number, number, string]>;

export type LeekErrorName = keyof typeof LEEK_CODES;

export class LeekError extends Error {
  readonly code: number;
  readonly statusCode: number;
  readonly title: string;

  constructor(name: LeekErrorName, reason: string) {
    const [code, status, title] = LEEK_CODES[name];
    super(reason);
    this.name = 'LeekError';
    this.code = code;
    this.statusCode = status;
    this.title = title;
  }
}

/** Maps any error (catalog, store, validation) to the leek shape. */
export function toLeekError(error: unknown): LeekError {
  if (error instanceof LeekError) return error;
  if (error instanceof StoreError) {
    if (error.kind === 'unavailable') return new LeekError('unavailable', error.message);
    if (error.kind === 'invalid' || error.kind === 'unsupported') return new LeekError('invalid', error.message);
    if (error.kind === 'notfound') return new LeekError('appNotFound', error.message);
    if (error.kind === 'conflict') return new LeekError('appExists', error.message);
  }
  const kind = kindOf(error);
  if (kind === 'session' || kind === 'access') return new LeekError('unauthorized', (error as Error).message);
  if (kind === 'api') return new LeekError('invalid', (error as Error).message);
  if (kind === 'notfound') return new LeekError('appNotFound', (error as Error).message);
  if (kind === 'unavailable') return new LeekError('unavailable', (error as Error).message);
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) return new LeekError('invalid', fastifyError.message);
  if (fastifyError?.statusCode && fastifyError.statusCode < 500) {
    const leek = new LeekError('invalid', fastifyError.message);
    return Object.assign(leek, { statusCode: fastifyError.statusCode });
  }
  return new LeekError('internal', 'Internal error; the request id in the logs has the details');
}

export function leekErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const leek = toLeekError(error);
  // Unavailable backends and brokers (503) and an unconfigured broker (501) are the caller's to fix, not a fault here.
  if (leek.statusCode === 500) request.log.error({ err: error }, 'request failed');
  return reply
    .status(leek.statusCode)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ error: { code: leek.code, message: leek.title, reason: capDescription(leek.message) } });
}
