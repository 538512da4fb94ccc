/** The management service: definitions and identities. */
import { JOBS_INDEX, type ServicePlugin, createProducer, registerApi } from '@shallot/core';
import { type ApiDescriptor, dispatchQueue } from '@shallot/schemas';
import { ensureLeekIndexes } from '@shallot/store';
import multipart from '@fastify/multipart';
import fp from 'fastify-plugin';
import { ensureActivityIndexes } from './activity.js';
import type { Mailer } from './mail.js';
import { managementRoutes } from './routes/index.js';
import { jobRoutes } from './routes/jobs.js';
import { type AdminSeed, seedAdmin, seedDefaults } from './seed.js';
import { migrateIdentities } from './users/emails.js';

export interface ManagementOptions {
  /** Called once the first-run records exist (the suite prints the admin login from it). */
  onSeeded?: (seed: AdminSeed) => void;
  /** Account e-mail (recovery keys, notices). @default logs that a message would be sent */
  mailer?: Mailer;
  /** The descriptors to serve. @default the suite's `API` list */
  api?: readonly ApiDescriptor[];
}

const management: ServicePlugin<ManagementOptions & { ctx: import('@shallot/core').ServiceContext }> = async (
  app,
  { ctx, onSeeded, api, mailer },
) => {
  await ensureActivityIndexes(ctx);
  await ctx.store.indexes.ensure(JOBS_INDEX);
  await ensureLeekIndexes(ctx.store);
  const seed = await seedAdmin(ctx.store, ctx.config.adminPassword);
  await seedDefaults(ctx);
  await migrateIdentities(ctx, app.log);
  if (onSeeded) onSeeded(seed);
  else if (seed.generatedPassword) {
    // Printed once, to the terminal only: the operator needs it and no log collector should keep it.
    process.stdout.write(`First run: log in as "${seed.username}" with password "${seed.generatedPassword}"\n`);
  }
  // Multipart bodies (bucket uploads) are streamed by the handlers that accept them; limits are set per call.
  await app.register(multipart);
  // run_event turns requests into dispatch messages; the job-runners choose servers and run the jobs.
  const dispatch = createProducer(ctx.redis, dispatchQueue);
  app.addHook('onClose', () => dispatch.close());
  const implementations = [...managementRoutes(ctx, mailer ? { mailer } : {}), ...jobRoutes(ctx, { dispatch })];
  registerApi(app, { service: 'management', implementations, ...(api ? { api } : {}) });
};

export const managementPlugin = fp(management, { name: 'shallot-management', fastify: '5.x', encapsulate: true });
