/** The ingest service: agent-facing writes (task and worker events, server metrics). */
import { type ServicePlugin, registerApi } from '@shallot/core';
import { ensureLeekIndexes } from '@shallot/store';
import fp from 'fastify-plugin';
import { createNotifier } from './leek/notifier.js';
import { createBatchWriter } from './leek/writer.js';
import { eventRoutes } from './routes/events.js';

const ingest: ServicePlugin = async (app, { ctx }) => {
  await ensureLeekIndexes(ctx.store);
  const notifier = createNotifier(ctx.redis);
  const writer = createBatchWriter(ctx.store, ctx.config.ingestWriteThread, app.log);
  // Writes in flight finish before their notifications' queue closes.
  app.addHook('onClose', async () => {
    await writer.close();
    await notifier.close();
  });
  registerApi(app, { service: 'ingest', implementations: [...eventRoutes(ctx, writer, notifier)] });
};

export const ingestPlugin = fp(ingest, { name: 'shallot-ingest', fastify: '5.x', encapsulate: true });
