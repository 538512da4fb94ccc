/** The job-runner service: consumes its own run queue and the notify queue, as a registered server. */
import { type ConsumerHandler, type ServiceContext, type ServicePlugin, createConsumer, registerApi } from '@shallot/core';
import { type NotifyPayload, type RunPayload, notifyQueue, runQueue } from '@shallot/schemas';
import fp from 'fastify-plugin';
import { registerServer, serverIdFor } from './server-registry.js';

export interface JobRunnerOptions {
  ctx: ServiceContext;
  /** Work for each queue; later issues give them real work, tests give them observable work. */
  handlers?: {
    run?: ConsumerHandler<RunPayload>;
    notify?: ConsumerHandler<NotifyPayload>;
  };
  concurrency?: number;
}

const jobRunner: ServicePlugin<JobRunnerOptions> = async (app, { ctx, handlers = {}, concurrency }) => {
  registerApi(app, { service: 'job-runner', implementations: [] });
  const serverId = serverIdFor(ctx.config.serverId);
  const registration = await registerServer(ctx.redis, serverId, ctx.config.heartbeatSeconds);
  const log = app.log.child({ server: serverId });
  const consumerOptions = { shutdownTimeoutMs: ctx.config.shutdownTimeoutMs, ...(concurrency ? { concurrency } : {}) };

  const run = createConsumer(
    ctx.redis,
    runQueue(serverId),
    handlers.run ?? (async (payload) => log.info({ job: payload.job_id }, 'run request received; no job plugins are installed yet')),
    consumerOptions,
  );
  const notify = createConsumer(
    ctx.redis,
    notifyQueue,
    handlers.notify ?? (async (payload) => log.info({ kind: payload.kind }, 'notification received; no notifier handles this kind yet')),
    consumerOptions,
  );
  for (const consumer of [run, notify]) {
    consumer.worker.on('failed', (job, error) => {
      log.warn({ queue: consumer.worker.name, job: job?.id, attempt: job?.attemptsMade, err: error }, 'queue job failed');
    });
  }

  // preClose runs before every onClose hook, while Redis and the store are still open.
  app.addHook('preClose', async () => {
    // Stop taking work first, let running work finish, then leave the live set.
    await Promise.all([run.close(), notify.close()]);
    await registration.stop();
  });
  log.info({ queues: [run.worker.name, notify.worker.name] }, 'job runner registered');
};

export const jobRunnerPlugin = fp(jobRunner, { name: 'shallot-job-runner', fastify: '5.x', encapsulate: true });
