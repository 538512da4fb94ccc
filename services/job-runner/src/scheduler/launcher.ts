/**
 * Where scheduled launches go until the job run path consumes them directly: the BullMQ queue `schedule.launch`
 * (packages/schemas queues.ts). The launch key is the BullMQ job id, so a slot handed on twice (after a leader
 * change) is queued once.
 */
import { type Producer, type RedisWiring, createProducer } from '@shallot/core';
import { type ScheduleLaunchPayload, scheduleLaunchQueue } from '@shallot/schemas';
import type { Launcher } from './scheduler.js';

export interface QueueLauncher {
  launch: Launcher;
  producer: Producer<ScheduleLaunchPayload>;
  close(): Promise<void>;
}

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
    launch: async (launches) => {
      await Promise.all(launches.map((payload) => producer.add(payload, { jobId: payload.key })));
    },
    close: () => producer.close(),
  };
}
