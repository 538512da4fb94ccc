/** The ingest service: agent-facing writes (task and worker events, server metrics). */
import { type ServicePlugin, registerApi } from '@shallot/core';
import fp from 'fastify-plugin';

const ingest: ServicePlugin = async (app) => {
  registerApi(app, { service: 'ingest', implementations: [] });
};

export const ingestPlugin = fp(ingest, { name: 'shallot-ingest', fastify: '5.x', encapsulate: true });
