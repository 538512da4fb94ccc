/**
 * Edge concerns in front of every route, in both deployments (suite and separate gateway): security headers,
 * CORS, rate limits, and the OpenAPI document at /docs built from the routes the descriptors declare.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

export interface EdgeOptions {
  /** Requests per minute per client IP; 0 turns rate limiting off. */
  rateLimitPerMinute: number;
  /** Origins allowed to call from a browser (comma list, `*` for any); empty turns CORS off. */
  corsOrigins: string;
  version?: string;
}

/**
 * Helmet's headers, computed once. They are the same on every answer, and running the middleware per request cost
 * the gateway a third of its throughput. The docs UI needs inline scripts and styles, so no CSP.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({ contentSecurityPolicy: false })({ headers: {} } as never, response as never, () => {});
  return headers;
}

function corsOrigin(setting: string): boolean | string[] {
  const origins = setting
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return origins.includes('*') ? true : origins;
}

async function edge(app: FastifyInstance, options: EdgeOptions): Promise<void> {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (options.corsOrigins) {
    await app.register(cors, { origin: corsOrigin(options.corsOrigins), exposedHeaders: ['Content-Disposition'] });
  }
  if (options.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: options.rateLimitPerMinute,
      timeWindow: '1 minute',
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        code: 'rate',
        description: `Rate limit exceeded: ${context.max} requests per ${context.after}`,
      }),
    });
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Shallot API',
        description: 'Celery task monitoring and an xyOps-compatible job scheduling and server monitoring API.',
        version: options.version ?? '0.1.0',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'header', name: 'X-Session-ID' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

export const edgePlugin = fp(edge, { name: 'shallot-gateway-edge', fastify: '5.x' });
