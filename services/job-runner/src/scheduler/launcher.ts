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

/**
 * `staggerMs` spreads launches due at the same second (behaviour §8 "Launch queue", `scheduler_stagger_ms`): the
 * k-th of them becomes runnable k × staggerMs later, so a minute's hundreds of jobs do not all start at once.
 */
export function createQueueLauncher(redis: RedisWiring, { staggerMs = 0 }: { staggerMs?: number } = {}): QueueLauncher {
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
      const sameSecond = new Map<number, number>();
      const stagger = (payload: ScheduleLaunchPayload) => {
        const rank = sameSecond.get(payload.now) ?? 0;
        sameSecond.set(payload.now, rank + 1);
        return rank * staggerMs;
      };
      // One round trip per chunk: a minute's launches of thousands of events go out together.
      for (let i = 0; i < launches.length; i += CHUNK) {
        await producer.queue.addBulk(
          launches.slice(i, i + CHUNK).map((payload) => {
            // A slot handed on ahead of its time waits as a delayed job and becomes runnable at its second.
            const delay = Math.max(0, payload.now * 1000 - nowMs) + stagger(payload);
            return { name: scheduleLaunchQueue.name, data: payload, opts: { jobId: payload.key, ...(delay > 0 ? { delay } : {}) } };
          }),
        );
      }
    },
    close: () => producer.close(),
  };
}
