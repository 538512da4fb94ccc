/** The gateway service: edge concerns plus the descriptor-derived routing table, forwarding to the services. */
import type { ServicePlugin } from '@shallot/core';
import fp from 'fastify-plugin';
import { edgePlugin } from './edge.js';
import { type Upstreams, proxyPlugin } from './proxy.js';

const gateway: ServicePlugin = async (app, { ctx }) => {
  const { config } = ctx;
  const upstreams: Upstreams = {
    ingest: config.ingestUrl,
    search: config.searchUrl,
    management: config.managementUrl,
    'job-runner': config.jobRunnerUrl,
  };
  await app.register(edgePlugin, { rateLimitPerMinute: config.rateLimitPerMinute });
  await app.register(proxyPlugin, { upstreams, bodyLimit: config.bodyLimit });
};

export const gatewayPlugin = fp(gateway, { name: 'shallot-gateway', fastify: '5.x' });
