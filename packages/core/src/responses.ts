/** Turns every error into the standard `{code, description}` answer, in one place. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isVersionedPath } from '@shallot/schemas';
import { StoreError } from '@shallot/store';
import { type ErrorKind, RecordError, STATUS_BY_KIND, kindOf } from './errors.js';
import { isRedisUnavailable } from './redis.js';

const REDIS_AWAY = 'Redis is unreachable: the service cannot check sessions or live state right now; retry shortly';

export interface ErrorAnswer {
  /** A catalog kind, or a record type for RecordError (its own status). */
  kind: ErrorKind | (string & {});
  description: string;
  /** The HTTP status on versioned URLs when the kind alone does not say it (RecordError). */
  status?: number;
  /** Transport-level statuses (413, 415) are kept even on unversioned URLs. */
  fixedStatus?: number;
}

const STORE_KINDS: Record<StoreError['kind'], ErrorKind> = {
  invalid: 'api',
  unsupported: 'api',
  notfound: 'notfound',
  conflict: 'conflict',
  unavailable: 'unavailable',
};

/** Longest description sent: messages quote request values, and a 1 MB value must not come back as a 1 MB error. */
export const MAX_DESCRIPTION = 1024;
/** Longest request value a message quotes (see `quote`). */
export const MAX_QUOTED = 200;

/** A request value for an error message, cut at MAX_QUOTED characters. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value) ?? value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}… (${text.length} characters)` : text;
}

export function capDescription(description: string): string {
  return description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION)}… (cut)` : description;
}

/**
 * The multipart parser's (busboy) errors about a malformed body: plain Errors without a status, thrown while a
 * handler reads the parts. They are the sender's fault.
 */
const MALFORMED_MULTIPART =
  /^(Unexpected end of (multipart data|form)|Malformed part header|Multipart: Boundary not found|Part terminated early|Malformed urlencoded form)/;

/** Classifies any thrown value into a user-facing answer. */
export function describeError(error: unknown): ErrorAnswer {
  if (error instanceof RecordError) return { kind: error.restCode, description: error.message, status: error.statusCode };
  const kind = kindOf(error);
  if (kind) return { kind, description: (error as Error).message };
  if (error instanceof StoreError) return { kind: STORE_KINDS[error.kind], description: error.message };
  if (isRedisUnavailable(error)) return { kind: 'unavailable', description: REDIS_AWAY, fixedStatus: 503 };
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) {
    return { kind: 'api', description: `Invalid request ${fastifyError.validationContext ?? 'input'}: ${fastifyError.message}` };
  }
  const status = fastifyError?.statusCode;
  if (status === undefined && error instanceof Error && MALFORMED_MULTIPART.test(error.message)) {
    return { kind: 'api', description: `Malformed multipart body: ${error.message}` };
  }
  if (status === 413 || status === 415) return { kind: 'api', description: fastifyError.message, fixedStatus: status };
  if (status !== undefined && status >= 400 && status < 500) return { kind: 'api', description: fastifyError.message };
  return { kind: 'internal', description: 'Internal error; the request id in the logs has the details' };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  const status =
    answer.fixedStatus ?? (isVersionedPath(request.url) ? (answer.status ?? STATUS_BY_KIND[answer.kind as ErrorKind] ?? 500) : 200);
  // Bypass the route's success serializer: errors have their own shape.
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ code: answer.kind, description: capDescription(answer.description) });
}

async function standardResponses(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const answer = describeError(error);
    if (answer.kind === 'internal') request.log.error({ err: error }, 'request failed');
    // A Redis outage is logged once when it starts and once when it ends (prepareApp), not per request.
    else if (answer.description === REDIS_AWAY) request.log.debug('answered 503: Redis is unreachable');
    else if (answer.kind === 'unavailable') request.log.warn({ err: error }, 'dependency unavailable');
    return sendError(request, reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    const name = /^\/api\/app\/([^/?]+)/.exec(request.url)?.[1];
    // As xyOps answers an unknown API: code `api` (HTTP 200 on unversioned URLs, like every error there).
    if (name) return sendError(request, reply, { kind: 'api', description: `Unsupported API: ${quote(name)}`, status: 404 });
    return reply
      .status(404)
      .send({ code: 'notfound', description: capDescription(`No route for ${request.method} ${request.url.split('?')[0]}`) });
  });
}

/** Registers the error and not-found handlers on the instance it is given. */
export const standardResponsesPlugin = fp(standardResponses, { name: 'shallot-standard-responses', fastify: '5.x' });
