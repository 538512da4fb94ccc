/**
 * Hands task notifications to the `notify` queue after a durable ingest write. The write is what the agent's 201
 * promises; notifications are best-effort on top of it: when Redis does not take them within a bound, the failure
 * is logged and the batch still answers 201 (answering 503 would not help — the redelivered batch merges as
 * unchanged and notifies nothing).
 */
import { type Producer, createProducer } from '@shallot/core';
import type { RedisWiring } from '@shallot/core';
import { type LeekTaskNotification, type NotifyPayload, notifyQueue } from '@shallot/schemas';
import type { FastifyBaseLogger } from 'fastify';

/** @default how long an ingest request waits for Redis to take its notifications, in milliseconds */
export const NOTIFY_TIMEOUT_MS = 2000;

export interface Notifier {
  send(notifications: readonly LeekTaskNotification[], log: FastifyBaseLogger): Promise<void>;
  close(): Promise<void>;
}

export function createNotifier(redis: RedisWiring, timeoutMs = NOTIFY_TIMEOUT_MS): Notifier {
  const producer: Producer<NotifyPayload> = createProducer(redis, notifyQueue);
  return {
    async send(notifications, log) {
      if (notifications.length === 0) return;
      // One round trip for the whole batch.
      const added = producer.queue.addBulk(notifications.map((data) => ({ name: notifyQueue.name, data })));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      try {
        if ((await Promise.race([added, timedOut])) === 'timeout') {
          log.error({ notifications: notifications.length }, 'notify queue did not answer in time: task notifications may be lost');
        }
      } catch (error) {
        log.error({ err: error, notifications: notifications.length }, 'notify queue refused task notifications');
      } finally {
        clearTimeout(timer);
      }
      added.catch(() => {});
    },
    close: () => producer.close(),
  };
}
