/**
 * Edge concerns in front of every route, in both deployments (suite and separate gateway): security headers,
 * CORS, rate limits, and the OpenAPI document at /docs built from the routes the descriptors declare.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Errors } from '@shallot/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { API, type ApiDescriptor } from '@shallot/schemas';
import helmet from 'helmet';
import { buildOpenApiDocument } from './openapi.js';

export interface EdgeOptions {
  /** Requests per minute per client IP; 0 turns rate limiting off. */
  rateLimitPerMinute: number;
  /**
   * Requests per minute per client IP to `/api/user/*` (login, recovery, account administration), counted apart
   * from the rest and on even when the global limit is off; 0 turns it off. @default the global limit only
   */
  userRateLimitPerMinute?: number;
  /** Origins allowed to call from a browser (comma list, `*` for any); empty turns CORS off. */
  corsOrigins: string;
  version?: string;
  /** The descriptors the document shows. @default every descriptor of the suite */
  api?: readonly ApiDescriptor[];
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

const USER_NAMESPACE = '/api/user/';

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
  const userLimit = options.userRateLimitPerMinute ?? 0;
  if (options.rateLimitPerMinute > 0 || userLimit > 0) {
    // Routes of the user namespace get a limit of their own (a separate counter, `groupId`). Set on the route before
    // @fastify/rate-limit's own onRoute hook reads it, so no other route pays for a per-request check when the
    // global limit is off. Guessing passwords costs scrypt time, so this limit is on by default.
    app.addHook('onRoute', (route) => {
      if (userLimit <= 0 || !route.url.startsWith(USER_NAMESPACE)) return;
      const config = (route.config ?? {}) as Record<string, unknown>;
      route.config = { ...config, rateLimit: { max: userLimit, timeWindow: '1 minute', groupId: 'user' } } as typeof route.config;
    });
    await app.register(rateLimit, {
      global: options.rateLimitPerMinute > 0,
      max: options.rateLimitPerMinute,
      timeWindow: '1 minute',
      // Thrown by the plugin: a catalog error, so the standard answer is `{code: "rate"}` (HTTP 429 on versioned URLs).
      // The plugin's own `after` reads "1 minute" or "59 seconds" depending on timing; seconds are easier to act on.
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
        return new Errors.rate(
          `Rate limit exceeded: ${context.max} requests per minute; retry in ${seconds} second${seconds === 1 ? '' : 's'}`,
        );
      },
    });
  }
  // A static document built from the descriptors: one operation per API name, not one per URL the router knows.
  await app.register(swagger, {
    mode: 'static',
    specification: { document: buildOpenApiDocument(options.api ?? API, options.version ?? '0.1.0') as never },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false, tryItOutEnabled: false, docExpansion: 'none' },
  });
}

export const edgePlugin = fp(edge, { name: 'shallot-gateway-edge', fastify: '5.x' });
