/**
 * Request bodies of the REST API (api-sections §0): JSON (an empty JSON body means "no parameters"),
 * `application/x-www-form-urlencoded`, and bodies on GET requests (some clients send their parameters that way).
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const JSON_TYPE = 'application/json';

async function bodies(app: FastifyInstance): Promise<void> {
  await app.register(formbody);
  // The default parser (prototype poisoning refused) for everything but an empty body, which clients send with a
  // JSON content type on GETs and parameterless POSTs.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(JSON_TYPE);
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/** Registers the body parsers on the instance it is given. */
export const bodiesPlugin = fp(bodies, { name: 'shallot-bodies', fastify: '5.x' });

/** Lets GET requests carry a body (parsed like a POST's); call on a fresh instance, before any route. */
export function allowGetBodies(app: FastifyInstance): void {
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
}
