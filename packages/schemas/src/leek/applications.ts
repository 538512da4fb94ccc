/** Task-monitor applications and their fan-out triggers (leek-management-and-search §2, §4.1), as stored and as sent. */
import { type Static, Type } from '@sinclair/typebox';

/** Unknown properties fail validation (`additionalProperties: false` would have Fastify's Ajv silently drop them). */
const STRICT = { additionalProperties: Type.Never() };

/** Trigger patterns are regular expressions applied to task names: bounded, so matching stays cheap. */
const Pattern = Type.String({ minLength: 1, maxLength: 256 });
const Names = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, description });

/** A trigger as a client sends it (create and edit); `include` and `exclude` are mutually exclusive. */
export const LeekTriggerBody = Type.Object(
  {
    enabled: Type.Boolean(),
    type: Type.Literal('slack'),
    slack_wh_url: Type.String({ minLength: 1, maxLength: 2048 }),
    states: Type.Optional(Names('Task states that notify; empty = all')),
    envs: Type.Optional(Names('Environments (the batch header) that notify; empty = all')),
    include: Type.Optional(Type.Array(Pattern, { maxItems: 50, description: 'Notify only task names matching one (prefix regex)' })),
    exclude: Type.Optional(Type.Array(Pattern, { maxItems: 50, description: 'Never notify task names matching one (prefix regex)' })),
    runtime_upper_bound: Type.Optional(
      Type.Number({ minimum: 1e-12, maximum: 1000, description: 'Seconds; successes at or under it do not notify' }),
    ),
  },
  STRICT,
);
export type LeekTriggerBody = Static<typeof LeekTriggerBody>;

/** A stored trigger: the body with its defaults applied and a server-given id (10 upper-case letters). */
export const LeekTrigger = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Z]{10}$' }),
    enabled: Type.Boolean(),
    type: Type.Literal('slack'),
    slack_wh_url: Type.String(),
    states: Type.Array(Type.String()),
    envs: Type.Array(Type.String()),
    include: Type.Optional(Type.Array(Type.String())),
    exclude: Type.Optional(Type.Array(Type.String())),
    runtime_upper_bound: Type.Optional(Type.Number()),
  },
  { $id: 'LeekTrigger' },
);
export type LeekTrigger = Static<typeof LeekTrigger>;

/** An admin grant names a principal id; the address is what it was when granted, for display only. */
export const LeekAdmin = Type.Object({
  user: Type.String({ description: 'Username key of the admin (or key:<id> for an API key); what access is checked against' }),
  email: Type.String({ description: 'Verified e-mail of the admin when granted (display only)' }),
  since: Type.Integer({ description: 'Granted at, epoch ms' }),
});
export type LeekAdmin = Static<typeof LeekAdmin>;

/** An application as the API shows it (and as stored in LEEK_APPLICATIONS, with id = leekScope(org, app_name)). */
export const LeekApplication = Type.Object(
  {
    org: Type.String(),
    app_name: Type.String(),
    app_description: Type.String(),
    app_key: Type.String({ description: 'Agents send it as x-leek-app-key; visible to every member of the org' }),
    owner: Type.String({
      description: 'Creator\'s username key (key:<id> for an API key), or "public" for apps created by an agent',
    }),
    created_at: Type.Integer({ description: 'Epoch ms' }),
    fo_triggers: Type.Array(LeekTrigger),
    admins: Type.Optional(Type.Array(LeekAdmin)),
    broker_url: Type.Optional(
      Type.String({ description: 'The Celery broker control and broker calls use (redis:// or amqp://); its password is shown as ****' }),
    ),
  },
  { $id: 'LeekApplication' },
);
export type LeekApplication = Static<typeof LeekApplication>;

/** `POST /v1/applications` body (§3): strict; shards and replicas are accepted for compatibility and not stored. */
export const LeekApplicationCreate = Type.Object(
  {
    app_name: Type.String({ pattern: '^[a-z]+$', maxLength: 32, description: 'Lower-case letters only' }),
    app_description: Type.String({ minLength: 1, maxLength: 1024 }),
    number_of_shards: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 1 })),
    number_of_replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 1, default: 0 })),
    fo_triggers: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 0, description: 'Only [] is accepted' })),
  },
  STRICT,
);
export type LeekApplicationCreate = Static<typeof LeekApplicationCreate>;

export const CLEAN_UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks'] as const;
export const CLEAN_UNIT_MS: Readonly<Record<(typeof CLEAN_UNITS)[number], number>> = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** `DELETE /v1/applications/clean` query string. */
export const LeekCleanQuery = Type.Object(
  {
    kind: Type.Union([Type.Literal('task'), Type.Literal('worker')]),
    count: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    unit: Type.Union(CLEAN_UNITS.map((u) => Type.Literal(u))),
  },
  STRICT,
);
export type LeekCleanQuery = Static<typeof LeekCleanQuery>;

/** A refused ingest document, kept for the app's admins (listable and purgeable). */
export const LeekDeadLetter = Type.Object({
  id: Type.String(),
  index: Type.Integer({ description: 'Position in its batch' }),
  doc_id: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  app_env: Type.String({ description: 'The batch x-leek-app-env header' }),
  reason: Type.String(),
  received_at: Type.Integer({ description: 'Epoch ms' }),
  document: Type.Unknown({ description: 'The element as received' }),
});
export type LeekDeadLetter = Static<typeof LeekDeadLetter>;

/** `PUT /v1/applications/broker` body: the app's Celery broker, `redis://[:password@]host[:port][/db]` or `amqp://user:password@host[:port]/vhost`. */
export const LeekBrokerBody = Type.Object(
  {
    broker_url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'redis://, rediss://, amqp:// or amqps:// URL of the Celery broker, as in the workers’ broker_url',
    }),
  },
  STRICT,
);
export type LeekBrokerBody = Static<typeof LeekBrokerBody>;
