/** Typed BullMQ producers and consumers: payloads are checked against their schema on both ends. */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { QueueDefinition } from '@shallot/schemas';
import type { RedisWiring } from './redis.js';
import { within } from './timeout.js';

/** Retries with exponential backoff; finished jobs are kept for a while for inspection. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

export interface Producer<T> {
  readonly queue: Queue;
  add(payload: T, options?: JobsOptions): Promise<string>;
  close(): Promise<void>;
}

function checker<T extends TSchema>(definition: QueueDefinition<T>) {
  const compiled = TypeCompiler.Compile(definition.payload);
  return (payload: unknown): string | undefined => {
    if (compiled.Check(payload)) return undefined;
    const first = compiled.Errors(payload).First();
    return `${first?.path || '/'} ${first?.message ?? 'is invalid'}`;
  };
}

export function createProducer<T extends TSchema>(
  redis: RedisWiring,
  definition: QueueDefinition<T>,
  defaults: JobsOptions = DEFAULT_JOB_OPTIONS,
): Producer<Static<T>> {
  const problem = checker(definition);
  const queue = new Queue(definition.name, {
    connection: redis.connect(),
    prefix: redis.bullPrefix,
    defaultJobOptions: defaults,
  });
  return {
    queue,
    async add(payload, options) {
      const error = problem(payload);
      if (error) throw new TypeError(`Refusing to queue an invalid ${definition.name} message: ${error}`);
      const job = await queue.add(definition.name, payload, options);
      return job.id as string;
    },
    close: () => queue.close(),
  };
}

export type ConsumerHandler<T> = (payload: T, job: Job<T>) => Promise<void>;

export interface ConsumerOptions {
  concurrency?: number;
  /** How long close() waits for running jobs before abandoning them to BullMQ's stalled-job recovery. */
  shutdownTimeoutMs?: number;
}

export interface Consumer {
  readonly worker: Worker;
  /** Stops taking work and waits for running jobs, up to the shutdown timeout. */
  close(): Promise<void>;
}

export function createConsumer<T extends TSchema>(
  redis: RedisWiring,
  definition: QueueDefinition<T>,
  handler: ConsumerHandler<Static<T>>,
  options: ConsumerOptions = {},
): Consumer {
  const problem = checker(definition);
  const worker = new Worker<Static<T>>(
    definition.name,
    async (job) => {
      const error = problem(job.data);
      // A malformed message will never become valid: fail it once, without retries.
      if (error) throw new UnrecoverableError(`Invalid ${definition.name} message: ${error}`);
      await handler(job.data, job);
    },
    { connection: redis.connect(), prefix: redis.bullPrefix, concurrency: options.concurrency ?? 4 },
  );
  worker.on('error', () => {
    // Connection errors are retried by BullMQ; readiness reports Redis health.
  });
  const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
  return {
    worker,
    async close() {
      const outcome = await within(worker.close(), timeoutMs);
      // A job still running now is abandoned: its lock expires and BullMQ's stalled-job check hands it
      // to another worker, so it is retried rather than lost.
      if (outcome === 'timeout') worker.removeAllListeners('completed');
    },
  };
}
