/** `pnpm start`: the whole suite in one process, on SQLite under the data dir. */
import { closeContext, exitOnStartupError, loadConfig, openContext, serve } from '@shallot/core';
import type { AdminSeed } from '@shallot/management';
import { findOrStartRedis } from './redis-server.js';
import { buildSuite } from './suite.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const redis = await findOrStartRedis(config.redisUrl, config.dataDir);
  const ctx = await openContext({ ...config, redisUrl: redis.url });
  let seed: AdminSeed | undefined;
  const app = await buildSuite(ctx, { onSeeded: (s) => (seed = s) });
  // Added after every service plugin so it runs after their onClose hooks, which still need Redis and the store.
  app.addHook('onClose', async () => {
    await closeContext(ctx);
    await redis.stop();
  });
  const url = await serve(app, { host: config.host, port: config.port, shutdownTimeoutMs: config.shutdownTimeoutMs });
  const lines = [`Shallot is running at ${url} (store: ${config.store}, data: ${config.dataDir}, redis: ${redis.url})`];
  if (seed?.generatedPassword) lines.push(`First run: log in as "${seed.username}" with password "${seed.generatedPassword}" (shown once)`);
  else if (seed?.created) lines.push(`First run: log in as "${seed.username}" with the password from SHALLOT_ADMIN_PASSWORD`);
  lines.push(`API docs: ${url}/docs`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(exitOnStartupError);
