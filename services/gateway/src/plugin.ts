/** The gateway service: edge concerns plus the descriptor-derived routing table, forwarding to the services. */
import type { Config } from '@shallot/core';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { edgePlugin } from './edge.js';
import { type Upstreams, proxyPlugin } from './proxy.js';

export interface GatewayOptions {
  config: Config;
}

export function upstreamsOf(config: Config): Upstreams {
  return {
    ingest: config.ingestUrl,
    search: config.searchUrl,
    management: config.managementUrl,
    'job-runner': config.jobRunnerUrl,
  };
}

/** No store, no Redis, no sessions: the gateway routes, and the services decide. */
const gateway: FastifyPluginAsync<GatewayOptions> = async (app, { config }) => {
  await app.register(edgePlugin, {
    rateLimitPerMinute: config.rateLimitPerMinute,
    userRateLimitPerMinute: config.userRateLimitPerMinute,
    corsOrigins: config.corsOrigins,
  });
  await app.register(proxyPlugin, { upstreams: upstreamsOf(config), bodyLimit: config.bodyLimit });
};

export const gatewayPlugin = fp(gateway, { name: 'shallot-gateway', fastify: '5.x' });
