/** The management service: definitions and identities. */
import { type ServicePlugin, registerApi } from '@shallot/core';
import fp from 'fastify-plugin';
import { managementRoutes } from './routes/index.js';
import { type AdminSeed, seedAdmin } from './seed.js';

export interface ManagementOptions {
  /** Called once the first-run records exist (the suite prints the admin login from it). */
  onSeeded?: (seed: AdminSeed) => void;
}

const management: ServicePlugin<ManagementOptions & { ctx: import('@shallot/core').ServiceContext }> = async (app, { ctx, onSeeded }) => {
  const seed = await seedAdmin(ctx.store, ctx.config.adminPassword);
  if (onSeeded) onSeeded(seed);
  else if (seed.generatedPassword) {
    // Printed once, to the terminal only: the operator needs it and no log collector should keep it.
    process.stdout.write(`First run: log in as "${seed.username}" with password "${seed.generatedPassword}"\n`);
  }
  registerApi(app, { service: 'management', implementations: managementRoutes(ctx) });
};

export const managementPlugin = fp(management, { name: 'shallot-management', fastify: '5.x', encapsulate: true });
