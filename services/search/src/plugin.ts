/** The search service: the read side (searches, aggregations, history). */
import { type ServicePlugin, registerApi } from '@shallot/core';
import fp from 'fastify-plugin';

const search: ServicePlugin = async (app) => {
  registerApi(app, { service: 'search', implementations: [] });
};

export const searchPlugin = fp(search, { name: 'shallot-search', fastify: '5.x', encapsulate: true });
