/** The job-runner service: consumes its own run queue, the notify queue and the deliveries queue, as a registered server. */
import {
  type ConsumerHandler,
  ConfigError,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  JOBS_INDEX,
  type ServiceContext,
  type ServicePlugin,
  type WebhookGuard,
  createConsumer,
  createProducer,
  blobStoreFor,
  createWebhookGuard,
  listActiveJobs,
  registerApi,
} from '@shallot/core';
import {
  type NotifyPayload,
  type RunPayload,
  deliveriesQueue,
  dispatchQueue,
  notifyQueue,
  runQueue,
  scheduleLaunchQueue,
} from '@shallot/schemas';
import type { JobsOptions } from 'bullmq';
import fp from 'fastify-plugin';
import { DEFAULT_DEDUPE_TTL_SECONDS, PatternMatcher, createDeliveryHandler, createNotifyHandler } from './notify/index.js';
import { type EventSource, type Launcher, Scheduler, type SchedulerOptions, StoreEventSource } from './scheduler/scheduler.js';
import { QUEUE_DISPATCH_AHEAD_MS, createQueueLauncher } from './scheduler/launcher.js';
import { createLaunchHandler } from './scheduler/launch-consumer.js';
import { SchedulerPluginGate } from './scheduler/plugin-gate.js';
import { jobSecrets } from './jobs/secrets.js';
import { Zones, isTimeZone } from './scheduler/zone.js';
import { randomToken } from '@shallot/core';
import { Dispatcher } from './dispatch/dispatcher.js';
import { createExecutor } from './jobs/executor.js';
import { jobPlugins } from './plugins/index.js';
import { registerServer, serverIdFor } from './server-registry.js';

/** Jobs this runner runs at once (most wait on child processes). @default 64 */
export const DEFAULT_RUN_CONCURRENCY = 64;

/** Attempts per web hook delivery. @default 5 */
export const DEFAULT_DELIVERY_ATTEMPTS = 5;
/** First retry delay, doubled each time (1, 2, 4, 8 s …). @default 1000 ms */
export const DEFAULT_DELIVERY_BACKOFF_MS = 1000;

export interface NotificationOptions {
  /** @default DEFAULT_DELIVERY_ATTEMPTS */
  attempts?: number;
  /** @default DEFAULT_DELIVERY_BACKOFF_MS */
  backoffMs?: number;
  /** Per request. @default DEFAULT_WEBHOOK_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default DEFAULT_DEDUPE_TTL_SECONDS */
  dedupeTtlSeconds?: number;
  /** @default a guard built from `config.webhookAllow` */
  guard?: WebhookGuard;
}

export interface JobRunnerOptions {
  ctx: ServiceContext;
  /** Work for each queue; later issues give them real work, tests give them observable work. */
  handlers?: {
    run?: ConsumerHandler<RunPayload>;
    /** Replaces the default notify handler (which dispatches by `kind`). */
    notify?: ConsumerHandler<NotifyPayload>;
  };
  concurrency?: number;
  /** Jobs run at once. @default DEFAULT_RUN_CONCURRENCY */
  runConcurrency?: number;
  notifications?: NotificationOptions;
  /** The scheduler (one leads across every runner); `false` keeps this runner out of it, as SHALLOT_SCHEDULER=false. */
  scheduler?: false | SchedulerSettings;
}

export interface SchedulerSettings
  extends Partial<Pick<SchedulerOptions, 'clock' | 'leaseMs' | 'pollMs' | 'leadMs' | 'claimTtlSeconds' | 'graceSeconds'>> {
  /** @default the store's events, categories and plugins */
  source?: EventSource;
  /** @default the schedule.launch queue */
  launch?: Launcher;
}

const jobRunner: ServicePlugin<JobRunnerOptions> = async (
  app,
  { ctx, handlers = {}, concurrency, runConcurrency, notifications = {}, scheduler: schedulerSettings = {} },
) => {
  registerApi(app, { service: 'job-runner', implementations: [] });
  // Built first: a malformed SHALLOT_WEBHOOK_ALLOW stops the start with the entry it cannot read.
  const guard = notifications.guard ?? createWebhookGuard(ctx.config.webhookAllow);
  // Completed jobs are written here by whichever runner finishes them.
  await ctx.store.indexes.ensure(JOBS_INDEX);
  const serverId = serverIdFor(ctx.config.serverId);
  const registration = await registerServer(ctx.redis, serverId, ctx.config.heartbeatSeconds);
  const log = app.log.child({ server: serverId });
  const consumerOptions = { shutdownTimeoutMs: ctx.config.shutdownTimeoutMs, ...(concurrency ? { concurrency } : {}) };

  const deliveryOptions: JobsOptions = {
    attempts: notifications.attempts ?? DEFAULT_DELIVERY_ATTEMPTS,
    backoff: { type: 'exponential', delay: notifications.backoffMs ?? DEFAULT_DELIVERY_BACKOFF_MS },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  };
  const deliveryProducer = createProducer(ctx.redis, deliveriesQueue, deliveryOptions);

  // Jobs: the shared dispatch queue (server selection) and this server's own run queue.
  const dispatchProducer = createProducer(ctx.redis, dispatchQueue);
  const deps = {
    ctx,
    redis: ctx.redis,
    guard,
    dispatch: dispatchProducer,
    timeoutMs: notifications.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
  };
  const dispatcher = new Dispatcher({ deps, heartbeatSeconds: ctx.config.heartbeatSeconds, log });
  const executor = createExecutor({
    serverId,
    instance: () => registration.record.instance,
    deps,
    blobs: blobStoreFor(ctx.config),
    plugins: jobPlugins(guard),
    log,
  });
  const run = createConsumer(ctx.redis, runQueue(serverId), handlers.run ?? ((payload) => executor.run(payload)), {
    ...consumerOptions,
    concurrency: runConcurrency ?? DEFAULT_RUN_CONCURRENCY,
  });
  dispatcher.start();
  const notify = createConsumer(
    ctx.redis,
    notifyQueue,
    handlers.notify ??
      createNotifyHandler({
        store: ctx.store,
        deliveries: deliveryProducer,
        deliveryOptions,
        patterns: new PatternMatcher({
          onProblem: ({ pattern, reason }) => log.warn({ pattern, reason }, 'trigger name pattern ignored'),
        }),
        publicUrl: ctx.config.publicUrl,
        log,
      }),
    consumerOptions,
  );
  const deliveries = createConsumer(
    ctx.redis,
    deliveriesQueue,
    createDeliveryHandler({
      redis: ctx.redis,
      guard,
      timeoutMs: notifications.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      dedupeTtlSeconds: notifications.dedupeTtlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS,
      log,
    }),
    consumerOptions,
  );
  const consumers = [run, notify, deliveries];
  // Scheduled launches become jobs on any runner, whether or not it takes part in scheduling.
  if (ctx.config.scheduleLaunches) {
    const plugins = new SchedulerPluginGate({
      log,
      context: async (plugin) => ({
        secrets: await jobSecrets(ctx, { id: '', plugin: plugin.id }),
        baseUrl: ctx.config.publicUrl,
        activeJobs: (await listActiveJobs(ctx.redis)).map(({ id, event, state, server }) => ({ id, event, state, server })),
      }),
    });
    const zones = new Zones(ctx.config.timezone && isTimeZone(ctx.config.timezone) ? ctx.config.timezone : undefined);
    const launches = createLaunchHandler({ redis: ctx.redis, store: ctx.store, dispatch: dispatchProducer, log, gate: { plugins, zones } });
    consumers.push(
      createConsumer(
        ctx.redis,
        scheduleLaunchQueue,
        async (payload) => {
          await launches(payload);
        },
        consumerOptions,
      ),
    );
  }

  let scheduler: Scheduler | undefined;
  let launcher: ReturnType<typeof createQueueLauncher> | undefined;
  if (schedulerSettings !== false && ctx.config.scheduler) {
    const { source, launch, ...timing } = schedulerSettings;
    if (ctx.config.timezone && !isTimeZone(ctx.config.timezone)) {
      throw new ConfigError(
        `SHALLOT_TZ=${JSON.stringify(ctx.config.timezone)} is not a known time zone: use an IANA name such as Europe/Paris`,
      );
    }
    if (!launch) launcher = createQueueLauncher(ctx.redis, { staggerMs: ctx.config.schedulerStaggerMs });
    scheduler = new Scheduler({
      redis: ctx.redis,
      source: source ?? new StoreEventSource(ctx.store),
      launch: launch ?? (launcher as NonNullable<typeof launcher>).launch,
      instance: `${serverId}.${process.pid}.${randomToken(3)}`,
      zones: new Zones(ctx.config.timezone || undefined),
      log: log.child({ component: 'scheduler' }),
      // Queued ahead as delayed jobs, claimed a little before that: a minute of thousands of launches is on time.
      ...(launch ? {} : { dispatchAheadMs: QUEUE_DISPATCH_AHEAD_MS, leadMs: QUEUE_DISPATCH_AHEAD_MS + 2000 }),
      ...timing,
    });
    scheduler.start();
  }
  for (const consumer of consumers) {
    consumer.worker.on('failed', (job, error) => {
      log.warn({ queue: consumer.worker.name, job: job?.id, attempt: job?.attemptsMade, err: error }, 'queue job failed');
    });
  }

  // preClose runs before every onClose hook, while Redis and the store are still open.
  app.addHook('preClose', async () => {
    // Stop scheduling (handing the lease on at once), stop taking work, let running work finish, leave the live set.
    await scheduler?.stop();
    await launcher?.close();
    await dispatcher.close();
    await Promise.all(consumers.map((c) => c.close()));
    await deliveryProducer.close();
    await dispatchProducer.close();
    await registration.stop();
  });
  log.info({ queues: consumers.map((c) => c.worker.name), scheduler: Boolean(scheduler) }, 'job runner registered');
};

export const jobRunnerPlugin = fp(jobRunner, { name: 'shallot-job-runner', fastify: '5.x', encapsulate: true });
