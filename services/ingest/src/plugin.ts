/** The ingest service: agent-facing writes (task and worker events, server metrics). */
import { type ServicePlugin, createProducer, registerApi } from '@shallot/core';
import { notifyQueue } from '@shallot/schemas';
import { ensureLeekIndexes } from '@shallot/store';
import fp from 'fastify-plugin';
import { OutboxRelay } from './leek/outbox-relay.js';
import { createBatchWriter } from './leek/writer.js';
import { eventRoutes } from './routes/events.js';

const ingest: ServicePlugin = async (app, { ctx }) => {
  await ensureLeekIndexes(ctx.store);
  const writer = createBatchWriter(ctx.store, ctx.config.ingestWriteThread, app.log, ctx.config.ingestRefresh);
  const producer = createProducer(ctx.redis, notifyQueue);
  const relay = new OutboxRelay(ctx.store, (ids) => writer.removeFromOutbox(ids), producer, app.log);
  app.addHook('onReady', () => relay.start());
  // The relay's last round still removes through the writer; writes in flight finish before the writer closes.
  app.addHook('onClose', async () => {
    await relay.close();
    await writer.close();
    await producer.close();
  });
  registerApi(app, { service: 'ingest', implementations: [...eventRoutes(ctx, writer, relay)] });
};

export const ingestPlugin = fp(ingest, { name: 'shallot-ingest', fastify: '5.x', encapsulate: true });
