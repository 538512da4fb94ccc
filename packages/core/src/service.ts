/** The pieces every service process shares: the Fastify instance, the standard plugins, and running it alone. */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import { authPlugin } from './auth.js';
import { clientErrorHandler } from './client-errors.js';
import { allowGetBodies, bodiesPlugin } from './bodies.js';
import { type Config, ConfigError, loadConfig, trustHops, trustProxyOf } from './config.js';
import { type ServiceContext, closeContext, openContext } from './context.js';
import { healthPlugin } from './health.js';
import { generateId } from './ids.js';
import { serve } from './lifecycle.js';
import { loggerOptions } from './logger.js';
import { RedisNotFoundError, locateRedis } from './redis.js';
import { standardResponsesPlugin } from './responses.js';

export interface ServicePluginOptions {
  ctx: ServiceContext;
}

export type ServicePlugin<T extends ServicePluginOptions = ServicePluginOptions> = FastifyPluginAsync<T>;

export function createApp(config: Config, options: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => generateId('rq'),
    // A service alone sits behind the gateway, which appends the client address it saw: that one hop is believed,
    // not what a client put before it. The suite and the gateway, which face clients, pass their own default
    // (SHALLOT_TRUST_PROXY overrides both).
    trustProxy: trustProxyOf(config.trustProxy, trustHops(1)),
    // A plugin's start-up writes (first-start seeding, index templates) go to the store: on a cluster store each
    // definition write is a replicated, refreshed request and the first start creates every index, well past
    // Fastify's 10 s default on a small machine.
    pluginTimeout: config.store === 'sqlite' ? 10_000 : 120_000,
    clientErrorHandler,
    ...options,
  });
  allowGetBodies(app);
  return app;
}

/** Standard responses, auth and health on an app, for one service or the whole suite. */
export async function prepareApp(app: FastifyInstance, ctx: ServiceContext, service: string): Promise<void> {
  await app.register(standardResponsesPlugin);
  await app.register(bodiesPlugin);
  await app.register(authPlugin, {
    store: ctx.store,
    redis: ctx.redis,
    changes: ctx.changes,
    secretKey: ctx.secretKey,
    sessionDays: ctx.config.sessionDays,
  });
  // One structured line per Redis state change (its client retries quietly in between).
  const stopWatching = ctx.redis.onStateChange(({ state, reason }) => {
    if (state === 'down') app.log.error({ redis: 'down', reason }, 'Redis is unreachable; authenticated calls answer 503 until it is back');
    else app.log.info({ redis: 'up' }, 'Redis is reachable again');
  });
  app.addHook('onClose', async () => stopWatching());
  await app.register(healthPlugin, {
    service,
    checks: { redis: () => ctx.redis.client.ping(), store: () => ctx.store.ping() },
  });
}

export interface RunServiceOptions {
  service: string;
  defaultPort: number;
  plugin: ServicePlugin;
  env?: NodeJS.ProcessEnv;
}

/**
 * How a process's main ends when it cannot start: a configuration or Redis problem is one sentence saying what to
 * do (the operator's mistake, not a bug), anything else its stack trace. Exits with status 1.
 */
export function exitOnStartupError(error: unknown): never {
  const known = error instanceof ConfigError || error instanceof RedisNotFoundError;
  process.stderr.write(`${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

/**
 * `main.ts` of a service: config from the environment, Redis as the suite finds it (REDIS_URL, else 127.0.0.1:6379),
 * context, plugin, listen, graceful shutdown. A failure to start ends the process through exitOnStartupError.
 */
export async function runService(options: RunServiceOptions): Promise<FastifyInstance> {
  try {
    const env = options.env ?? process.env;
    const config = loadConfig(env, env.SHALLOT_PORT ? {} : { port: options.defaultPort });
    const redisUrl = await locateRedis(config.redisUrl);
    const ctx = await openContext({ ...config, redisUrl });
    const app = createApp(config);
    await prepareApp(app, ctx, options.service);
    await app.register(options.plugin, { ctx });
    // Registered last so it runs after the services' own onClose hooks, which still need Redis and the store.
    app.addHook('onClose', () => closeContext(ctx));
    await serve(app, {
      host: config.host,
      port: config.port,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      onListening: (url) => app.log.info(`${options.service} listening on ${url} (redis: ${redisUrl})`),
    });
    return app;
  } catch (error) {
    return exitOnStartupError(error);
  }
}
