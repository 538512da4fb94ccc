/** Deliveries that were refused or failed after every retry, in a capped Redis list per scope, so none is lost silently. */
import type { DeliveryFailure } from '@shallot/schemas';
import type { RedisWiring } from './redis.js';

/** Failures kept per scope (older ones are dropped). @default 500 */
export const DELIVERY_FAILURES_KEPT = 500;
/** A list nobody writes to for this long disappears. @default 30 days */
export const DELIVERY_FAILURES_TTL_SECONDS = 30 * 86_400;

const failuresKey = (scope: string) => `deliveries:failures:${scope}`;

/** The part of a URL a failure record may show: scheme, host and port (never path, query or credentials). */
export function webhookTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host ? `${parsed.protocol}//${parsed.host}` : parsed.protocol;
  } catch {
    return '(invalid URL)';
  }
}

export async function recordDeliveryFailure(redis: RedisWiring, scope: string, failure: DeliveryFailure): Promise<void> {
  const key = failuresKey(scope);
  await redis.client
    .multi()
    .lpush(key, JSON.stringify(failure))
    .ltrim(key, 0, DELIVERY_FAILURES_KEPT - 1)
    .expire(key, DELIVERY_FAILURES_TTL_SECONDS)
    .exec();
}

/** The most recent failures of one scope, newest first. */
export async function listDeliveryFailures(redis: RedisWiring, scope: string, limit = 100): Promise<DeliveryFailure[]> {
  const rows = await redis.client.lrange(failuresKey(scope), 0, Math.max(0, Math.min(limit, DELIVERY_FAILURES_KEPT) - 1));
  return rows.map((row) => JSON.parse(row) as DeliveryFailure);
}
