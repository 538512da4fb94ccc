/** The default `notify` handler: checks each message against its kind's schema and hands it to that kind's notifier. */
import type { ConsumerHandler } from '@shallot/core';
import { LeekTaskNotification, type NotifyPayload } from '@shallot/schemas';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { UnrecoverableError } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { type LeekFanOutDeps, fanOutLeekTask } from './leek-task.js';

export { createDeliveryHandler, DEFAULT_DEDUPE_TTL_SECONDS, type DeliveryDeps } from './deliveries.js';
export { fanOutLeekTask, leekDedupeKey, type LeekFanOutDeps } from './leek-task.js';
export { PatternMatcher } from './patterns.js';

const checkLeekTask = TypeCompiler.Compile(LeekTaskNotification);

export interface NotifyDeps extends LeekFanOutDeps {
  log: FastifyBaseLogger;
}

export function createNotifyHandler(deps: NotifyDeps): ConsumerHandler<NotifyPayload> {
  const notifiers = new Map<string, (payload: NotifyPayload) => Promise<void>>([
    [
      'leek_task',
      async (payload) => {
        if (!checkLeekTask.Check(payload)) {
          const first = checkLeekTask.Errors(payload).First();
          // It will never become valid: fail it once, without retries.
          throw new UnrecoverableError(`invalid leek_task notification: ${first?.path || '/'} ${first?.message ?? 'is invalid'}`);
        }
        const queued = await fanOutLeekTask(deps, payload);
        if (queued) deps.log.debug({ task: payload.data.task.uuid, state: payload.data.task.state, queued }, 'task notifications queued');
      },
    ],
  ]);
  return async (payload) => {
    const notifier = notifiers.get(payload.kind);
    if (!notifier) {
      deps.log.warn({ kind: payload.kind }, 'notification of an unknown kind dropped');
      return;
    }
    await notifier(payload);
  };
}
