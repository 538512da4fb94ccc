/**
 * Where scheduled launches go until the job run path consumes them directly: the BullMQ queue `schedule.launch`
 * (packages/schemas queues.ts). The launch key is the BullMQ job id, so a slot handed on twice (after a leader
 * change) is queued once.
 */
import { type Producer, type RedisWiring, createProducer } from '@shallot/core';
import { type ScheduleLaunchPayload, scheduleLaunchQueue } from '@shallot/schemas';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Launcher } from './scheduler.js';

const check = TypeCompiler.Compile(scheduleLaunchQueue.payload);
const CHUNK = 500;

export interface QueueLauncher {
  launch: Launcher;
  producer: Producer<ScheduleLaunchPayload>;
  close(): Promise<void>;
}

/** Slots go to the queue this long before their time, as delayed jobs (see SchedulerOptions.dispatchAheadMs). */
export const QUEUE_DISPATCH_AHEAD_MS = 8000;

export function createQueueLauncher(redis: RedisWiring): QueueLauncher {
  const producer = createProducer(redis, scheduleLaunchQueue, {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    // Kept an hour after completion: a job id still present refuses a second add of the same slot.
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 7 * 86_400 },
  });
  return {
    producer,
    launch: async (launches, nowMs) => {
      for (const payload of launches) {
        if (!check.Check(payload))
          throw new TypeError(`Refusing to queue an invalid schedule.launch message: ${check.Errors(payload).First()?.message}`);
      }
      // One round trip per chunk: a minute's launches of thousands of events go out together.
      for (let i = 0; i < launches.length; i += CHUNK) {
        await producer.queue.addBulk(
          launches.slice(i, i + CHUNK).map((payload) => {
            // A slot handed on ahead of its time waits as a delayed job and becomes runnable at its second.
            const delay = Math.max(0, payload.now * 1000 - nowMs);
            return { name: scheduleLaunchQueue.name, data: payload, opts: { jobId: payload.key, ...(delay > 0 ? { delay } : {}) } };
          }),
        );
      }
    },
    close: () => producer.close(),
  };
}
