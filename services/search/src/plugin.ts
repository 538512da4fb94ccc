/** The search service: the read side (searches, aggregations, history). */
import { type ServicePlugin, registerApi } from '@shallot/core';
import { ensureLeekIndexes } from '@shallot/store';
import fp from 'fastify-plugin';
import { searchRoutes } from './routes/search.js';

const search: ServicePlugin = async (app, { ctx }) => {
  // Idempotent: whichever service starts first declares the task-monitor indexes and merges.
  await ensureLeekIndexes(ctx.store);
  registerApi(app, { service: 'search', implementations: [...searchRoutes(ctx)] });
};

export const searchPlugin = fp(search, { name: 'shallot-search', fastify: '5.x', encapsulate: true });
