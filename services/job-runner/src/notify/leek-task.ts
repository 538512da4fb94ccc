/**
 * Fan-out of one task transition to the application's triggers: each trigger that matches gets one delivery job
 * (retried with backoff by the deliveries queue, deduplicated there on app, trigger, task and state).
 */
import { createHash } from 'node:crypto';
import type { Producer } from '@shallot/core';
import {
  LEEK_APPLICATIONS,
  LeekTrigger,
  type LeekTaskNotification,
  type WebhookDeliveryPayload,
  leekDeliveryScope,
  leekScope,
} from '@shallot/schemas';
import type { Store } from '@shallot/store';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { JobsOptions } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { PatternMatcher } from './patterns.js';
import { taskMessage } from './slack.js';
import { evaluateTrigger } from './triggers.js';

const checkTrigger = TypeCompiler.Compile(LeekTrigger);

export interface LeekFanOutDeps {
  store: Store;
  deliveries: Producer<WebhookDeliveryPayload>;
  /** Attempts and backoff of each delivery job. */
  deliveryOptions: JobsOptions;
  patterns: PatternMatcher;
  publicUrl: string;
  log: FastifyBaseLogger;
}

/** Uuids are agent-given and unbounded: a long one is hashed so the key stays short. */
const keyPart = (value: string) => (value.length <= 128 ? value : createHash('sha256').update(value).digest('base64url'));

/**
 * The Redis key that makes a transition notify once: SET NX by the delivery that sends it. The retry count is part
 * of it, so RETRY → STARTED → RETRY (two transitions into RETRY) notifies twice, while redeliveries never do.
 */
export const leekDedupeKey = (scope: string, triggerId: string, uuid: string, state: string, retries = 0) =>
  `notify:leek:${scope}:${triggerId}:${keyPart(uuid)}:${state}:${retries}`;

/** Queues the deliveries for one transition; returns how many were queued. */
export async function fanOutLeekTask(deps: LeekFanOutDeps, { data }: LeekTaskNotification): Promise<number> {
  const { org, app, app_env: env, task, previous_state: previous } = data;
  // Edge-triggered: only a transition *into* a state notifies; an unchanged state is not one.
  if (previous === task.state) return 0;
  const scope = leekScope(org, app);
  const record = await deps.store.collections.get(LEEK_APPLICATIONS, scope);
  if (!record) {
    deps.log.debug({ org, app }, 'task notification for an application that no longer exists');
    return 0;
  }
  const stored = Array.isArray(record.fo_triggers) ? (record.fo_triggers as unknown[]) : [];
  let queued = 0;
  for (const candidate of stored) {
    if (!checkTrigger.Check(candidate)) {
      const id = (candidate as { id?: unknown } | null)?.id;
      deps.log.warn({ org, app, trigger: typeof id === 'string' ? id : undefined }, 'skipping a malformed stored trigger');
      continue;
    }
    const trigger = candidate;
    const decision = evaluateTrigger(trigger, env, task, deps.patterns);
    if (!decision.notify) {
      deps.log.trace({ org, app, trigger: trigger.id, task: task.uuid, skipped: decision.skipped }, 'trigger does not match');
      continue;
    }
    const message = taskMessage({ app, task, publicUrl: deps.publicUrl, ...(decision.note ? { note: decision.note } : {}) });
    await deps.deliveries.add(
      {
        channel: 'slack',
        url: trigger.slack_wh_url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        scope: leekDeliveryScope(scope),
        dedupe_key: leekDedupeKey(scope, trigger.id, task.uuid, task.state, typeof task.retries === 'number' ? task.retries : 0),
        subject: { org, app, env, trigger: trigger.id, task: task.uuid, name: task.name ?? null, state: task.state },
      },
      deps.deliveryOptions,
    );
    queued++;
  }
  return queued;
}
