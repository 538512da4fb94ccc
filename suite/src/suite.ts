/** Every service in one Fastify instance on one store and one Redis: the embedded deployment. */
import { type ServiceContext, createApp, prepareApp, trustProxyOf } from '@shallot/core';
import { edgePlugin } from '@shallot/gateway';
import { ingestPlugin } from '@shallot/ingest';
import { jobRunnerPlugin, type JobRunnerOptions } from '@shallot/job-runner';
import { type AdminSeed, managementPlugin } from '@shallot/management';
import { searchPlugin } from '@shallot/search';
import type { FastifyInstance } from 'fastify';

export interface SuiteOptions {
  onSeeded?: (seed: AdminSeed) => void;
  jobRunner?: Omit<JobRunnerOptions, 'ctx'>;
}

export async function buildSuite(ctx: ServiceContext, options: SuiteOptions = {}): Promise<FastifyInstance> {
  // The suite faces clients: X-Forwarded-For is believed only when SHALLOT_TRUST_PROXY says so, or anyone could
  // pick the address that rate limits and login lockouts count by.
  const app = createApp(ctx.config, { trustProxy: trustProxyOf(ctx.config.trustProxy, false) });
  await prepareApp(app, ctx, 'suite');
  await app.register(edgePlugin, {
    rateLimitPerMinute: ctx.config.rateLimitPerMinute,
    userRateLimitPerMinute: ctx.config.userRateLimitPerMinute,
    corsOrigins: ctx.config.corsOrigins,
  });
  await app.register(ingestPlugin, { ctx });
  await app.register(searchPlugin, { ctx });
  await app.register(managementPlugin, { ctx, ...(options.onSeeded ? { onSeeded: options.onSeeded } : {}) });
  await app.register(jobRunnerPlugin, { ctx, ...options.jobRunner });
  return app;
}
