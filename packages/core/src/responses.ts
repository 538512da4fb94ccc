/** Turns every error into the standard `{code, description}` answer, in one place. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isVersionedPath } from '@shallot/schemas';
import { StoreError } from '@shallot/store';
import { type ErrorKind, RecordError, STATUS_BY_KIND, kindOf } from './errors.js';

export interface ErrorAnswer {
  /** A catalog kind, or a record type for RecordError (HTTP 500). */
  kind: ErrorKind | (string & {});
  description: string;
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

/** Classifies any thrown value into a user-facing answer. */
export function describeError(error: unknown): ErrorAnswer {
  if (error instanceof RecordError) return { kind: error.restCode, description: error.message };
  const kind = kindOf(error);
  if (kind) return { kind, description: (error as Error).message };
  if (error instanceof StoreError) return { kind: STORE_KINDS[error.kind], description: error.message };
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) {
    return { kind: 'api', description: `Invalid request ${fastifyError.validationContext ?? 'input'}: ${fastifyError.message}` };
  }
  const status = fastifyError?.statusCode;
  if (status === 413 || status === 415) return { kind: 'api', description: fastifyError.message, fixedStatus: status };
  if (status !== undefined && status >= 400 && status < 500) return { kind: 'api', description: fastifyError.message };
  return { kind: 'internal', description: 'Internal error; the request id in the logs has the details' };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  const status = answer.fixedStatus ?? (isVersionedPath(request.url) ? (STATUS_BY_KIND[answer.kind as ErrorKind] ?? 500) : 200);
  // Bypass the route's success serializer: errors have their own shape.
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ code: answer.kind, description: answer.description });
}

async function standardResponses(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const answer = describeError(error);
    if (answer.kind === 'internal') request.log.error({ err: error }, 'request failed');
    else if (answer.kind === 'unavailable') request.log.warn({ err: error }, 'dependency unavailable');
    return sendError(request, reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    const name = /^\/api\/app\/([^/?]+)/.exec(request.url)?.[1];
    const description = name ? `Unsupported API: ${name}` : `No route for ${request.method} ${request.url.split('?')[0]}`;
    return reply.status(404).send({ code: name ? 1 : 'notfound', description });
  });
}

/** Registers the error and not-found handlers on the instance it is given. */
export const standardResponsesPlugin = fp(standardResponses, { name: 'shallot-standard-responses', fastify: '5.x' });
