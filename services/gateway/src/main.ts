/** Runs the gateway alone, in front of separately deployed services. */
import { createApp, exitOnStartupError, healthPlugin, loadConfig, serve, standardResponsesPlugin, trustProxyOf } from '@shallot/core';
import { gatewayPlugin, upstreamsOf } from './plugin.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.env.SHALLOT_PORT ? {} : { port: 8080 });
  // The gateway is the edge: X-Forwarded-For from clients is not to be believed here, unless SHALLOT_TRUST_PROXY names
  // the load balancer in front of it.
  const app = createApp(config, { trustProxy: trustProxyOf(config.trustProxy, false) });
  await app.register(standardResponsesPlugin);
  // Ready when every service behind it answers its own health check.
  const checks = Object.fromEntries(
    Object.entries(upstreamsOf(config)).map(([service, url]) => [
      service,
      async () => {
        const response = await fetch(`${url.replace(/\/$/, '')}/health`);
        if (!response.ok) throw new Error(`health answered ${response.status}`);
      },
    ]),
  );
  await app.register(healthPlugin, { service: 'gateway', checks });
  await app.register(gatewayPlugin, { config });
  await serve(app, {
    host: config.host,
    port: config.port,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onListening: (url) => app.log.info(`gateway listening on ${url}`),
  });
}

main().catch(exitOnStartupError);
