/**
 * Sends one queued web hook delivery through the SSRF guard. Transport errors, timeouts, 5xx, 408 and 429 are
 * retried by BullMQ with backoff; a refused URL, another HTTP answer or the last failed attempt is recorded in the
 * scope's failure list and logged — a delivery is never dropped silently.
 */
import {
  type ConsumerHandler,
  type RedisWiring,
  type WebhookGuard,
  type WebhookResult,
  deliverWebhook,
  recordDeliveryFailure,
  webhookTarget,
} from '@shallot/core';
import type { WebhookDeliveryPayload } from '@shallot/schemas';
import { UnrecoverableError } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';

/** How long a dedupe claim lives: duplicates and redeliveries within it never re-notify. @default 24 h */
export const DEFAULT_DEDUPE_TTL_SECONDS = 86_400;

export interface DeliveryDeps {
  redis: RedisWiring;
  guard: WebhookGuard;
  /** Per request. */
  timeoutMs: number;
  dedupeTtlSeconds: number;
  log: FastifyBaseLogger;
}

/** Answers a retry may change: timeouts, rate limits and server errors (and no answer at all). */
const retryable = (result: WebhookResult) =>
  !result.refused && (result.status === 0 || result.status === 408 || result.status === 429 || result.status >= 500);

/**
 * Claims the dedupe key for this job. The key holds the id of the job that claimed it, so the claimant's own
 * retries (and its recovery after a crash) still send, while any other delivery with the same key does not.
 */
async function claim(redis: RedisWiring, key: string, jobId: string, ttlSeconds: number): Promise<boolean> {
  const set = await redis.client.set(key, jobId, 'EX', ttlSeconds, 'NX');
  if (set === 'OK') return true;
  return (await redis.client.get(key)) === jobId;
}

export function createDeliveryHandler(deps: DeliveryDeps): ConsumerHandler<WebhookDeliveryPayload> {
  return async (delivery, job) => {
    const jobId = job.id ?? '';
    if (delivery.dedupe_key && !(await claim(deps.redis, delivery.dedupe_key, jobId, deps.dedupeTtlSeconds))) {
      deps.log.debug({ subject: delivery.subject }, 'duplicate delivery skipped: already sent or being sent');
      return;
    }
    const result = await deliverWebhook(
      delivery.url,
      {
        method: delivery.method ?? 'POST',
        body: delivery.body,
        timeoutMs: deps.timeoutMs,
        ...(delivery.headers ? { headers: delivery.headers } : {}),
      },
      deps.guard,
    );
    if (result.ok) return;

    const reason = result.error ?? `HTTP ${result.status}`;
    const attempt = job.attemptsMade + 1;
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    if (retryable(result) && !lastAttempt) throw new Error(reason);

    const target = webhookTarget(delivery.url);
    await recordDeliveryFailure(deps.redis, delivery.scope, {
      at: Date.now(),
      channel: delivery.channel,
      target,
      reason,
      refused: result.refused === true,
      attempts: result.refused ? 0 : attempt,
      status: result.status,
      subject: delivery.subject,
    });
    deps.log.error(
      { channel: delivery.channel, target, subject: delivery.subject, attempts: attempt, status: result.status, reason },
      result.refused ? 'web hook refused by the SSRF guard; recorded as failed' : 'web hook delivery failed for good; recorded',
    );
    throw new UnrecoverableError(reason);
  };
}
