/** `/health` (the process is alive) and `/ready` (its dependencies answer) on every service. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DocumentedSchema } from './api.js';
import { within } from './timeout.js';

export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  service: string;
  checks: Record<string, ReadinessCheck>;
  /** How long one check may take before it counts as failed. */
  checkTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 2000;

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  if ((await within(check(), ms)) === 'timeout') throw new Error(`no answer within ${ms} ms`);
}

const HIDDEN: DocumentedSchema = { hide: true };

async function health(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeout = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  app.get('/health', { schema: HIDDEN }, async () => ({ code: 0, status: 'ok', service: options.service }));
  app.get('/ready', { schema: HIDDEN }, async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check, timeout);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, (error as Error).message || 'failed'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, status]) => status !== 'ok').map(([name]) => name);
    if (failing.length === 0) return { code: 0, status: 'ready', service: options.service, checks };
    return reply.status(503).send({
      code: 'unavailable',
      description: `Not ready: ${failing.join(', ')} not answering`,
      service: options.service,
      checks,
    });
  });
}

export const healthPlugin = fp(health, { name: 'shallot-health', fastify: '5.x' });
