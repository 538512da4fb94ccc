/**
 * The routing table, derived from the API descriptors: each endpoint is forwarded to the service that owns it.
 * Bodies are forwarded as received (the owning service validates them); the gateway only enforces the body limit.
 */
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { API, type ApiDescriptor, ErrorResponse, type ServiceName, routePaths } from '@shallot/schemas';

export type Upstreams = Record<ServiceName, string>;

export interface ProxyOptions {
  upstreams: Upstreams;
  api?: readonly ApiDescriptor[];
  bodyLimit: number;
}

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

async function proxy(app: FastifyInstance, options: ProxyOptions): Promise<void> {
  for (const [service, url] of Object.entries(options.upstreams)) {
    if (!/^https?:\/\//.test(url)) throw new Error(`Upstream URL for ${service} must be http(s)://host:port, got "${url}"`);
  }
  await app.register(replyFrom, { undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 } });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body));

  for (const descriptor of options.api ?? API) {
    const upstream = options.upstreams[descriptor.service].replace(/\/$/, '');
    for (const url of routePaths(descriptor)) {
      for (const method of descriptor.methods) {
        app.route({
          method,
          url,
          schema: {
            summary: descriptor.summary,
            tags: [descriptor.service],
            ...(descriptor.params ? { [BODYLESS.has(method) ? 'querystring' : 'body']: descriptor.params } : {}),
            response: { 200: descriptor.response, '4xx': ErrorResponse, '5xx': ErrorResponse },
          },
          // The schemas are here for the docs; the owning service validates.
          validatorCompiler: () => () => true,
          handler: (request, reply) => {
            // Forward the raw bytes: re-encoding would turn the buffer into JSON of its own.
            const raw = Buffer.isBuffer(request.body) && !BODYLESS.has(method) ? request.body : undefined;
            return reply.from(`${upstream}${request.url}`, {
              ...(raw ? { body: raw, contentType: request.headers['content-type'] ?? 'application/octet-stream' } : {}),
              // One request id across gateway and service logs; the service learns who the client is.
              rewriteRequestHeaders: (_raw, headers) => ({
                ...headers,
                'x-request-id': request.id,
                'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${request.ip}` : request.ip,
              }),
              onError: (innerReply, { error }) => {
                request.log.warn({ err: error, upstream: descriptor.service }, 'upstream unavailable');
                innerReply.status(503).send({ code: 'unavailable', description: `The ${descriptor.service} service is not answering` });
              },
            });
          },
        });
      }
    }
  }
}

export const proxyPlugin = fp(proxy, { name: 'shallot-gateway-proxy', fastify: '5.x', encapsulate: true });
