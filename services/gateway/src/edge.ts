/**
 * Edge concerns in front of every route, in both deployments (suite and separate gateway): security headers,
 * CORS, rate limits, and the OpenAPI document at /docs built from the routes the descriptors declare.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface EdgeOptions {
  /** Requests per minute per client IP; 0 turns rate limiting off. */
  rateLimitPerMinute: number;
  version?: string;
}

async function edge(app: FastifyInstance, options: EdgeOptions): Promise<void> {
  // The docs UI needs inline scripts and styles; everything else is JSON.
  await app.register(helmet, { global: true, contentSecurityPolicy: false });
  await app.register(cors, { origin: false });
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
