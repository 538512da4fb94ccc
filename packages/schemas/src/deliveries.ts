/** Outgoing web hook deliveries: one queue message per (notification, destination), retried with backoff by job-runner. */
import { type Static, Type } from '@sinclair/typebox';
import type { QueueDefinition } from './queues.js';

/** Where failures of a delivery are listed, e.g. `leek.acme_io-shop` for one task-monitor application. */
export const DELIVERY_SCOPE_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,199}$';

/** What a delivery is about, copied into its failure record: short scalar facts, never the URL. */
const Subject = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
  description: 'What the delivery is about (app, trigger, task, state …)',
});

export const WebhookDeliveryPayload = Type.Object(
  {
    channel: Type.String({ minLength: 1, maxLength: 32, description: 'slack | web_hook | …' }),
    url: Type.String({ minLength: 1, maxLength: 4096, description: 'Checked by the SSRF guard when sent, not when queued' }),
    method: Type.Optional(Type.String({ pattern: '^[A-Z]{1,16}$', default: 'POST' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    body: Type.String(),
    scope: Type.String({ pattern: DELIVERY_SCOPE_PATTERN, description: 'Failure list this delivery reports to' }),
    dedupe_key: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'Claimed in Redis before sending: a second delivery with the same key sends nothing while it lives',
      }),
    ),
    subject: Subject,
  },
  { $id: 'WebhookDeliveryPayload', additionalProperties: false },
);
export type WebhookDeliveryPayload = Static<typeof WebhookDeliveryPayload>;

export const deliveriesQueue: QueueDefinition<typeof WebhookDeliveryPayload> = { name: 'deliveries', payload: WebhookDeliveryPayload };

/** A delivery that was refused or failed after all its retries (kept in a capped per-scope list, newest first). */
export const DeliveryFailure = Type.Object(
  {
    at: Type.Integer({ description: 'When it was given up, epoch ms' }),
    channel: Type.String(),
    target: Type.String({ description: 'Scheme, host and port only: the path of a web hook URL is often its secret' }),
    reason: Type.String(),
    refused: Type.Boolean({ description: 'The SSRF guard refused the URL: no request was made' }),
    attempts: Type.Integer({ minimum: 0, description: 'Requests attempted' }),
    status: Type.Integer({ description: 'Last HTTP status, 0 when none arrived' }),
    subject: Subject,
  },
  { $id: 'DeliveryFailure' },
);
export type DeliveryFailure = Static<typeof DeliveryFailure>;

/** The failure list of one task-monitor application (`scope` = `leekScope(org, app)`). */
export const leekDeliveryScope = (scope: string) => `leek.${scope}`;
