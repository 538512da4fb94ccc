/**
 * The rest of what the Leek web client calls (leek-management-and-search §3, §8): `/v1/users/whoami`, the summary
 * "transforms" (Shallot keeps the summary up to date on every write, so there is nothing to run), the app's Celery
 * broker setting, and the control (`/v1/control/*`) and broker (`/v1/broker/*`) calls that act on that broker. Every
 * call needs a session or an API key of the org; app-scoped calls name the app in `x-leek-app-name`.
 */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { LeekApplication, LeekBrokerBody } from './applications.js';

const STRICT = { additionalProperties: Type.Never() };
const NoParams = Type.Object({}, STRICT);
const Done = Type.String({ description: 'Always "Done"' });

export const leekWhoami = defineApi({
  name: 'leek_whoami',
  namespace: 'leek',
  path: '/v1/users/whoami',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Who the caller is, as the task monitor sees them: {claims: {email, org, kind}}',
  params: NoParams,
  response: Type.Object({
    claims: Type.Object({
      email: Type.String({ description: 'The user’s e-mail, or key:<id> for an API key without one' }),
      org: Type.String(),
      kind: Type.String({ description: 'session or key' }),
    }),
  }),
});

export const leekTransformsList = defineApi({
  name: 'leek_transforms_list',
  namespace: 'leek',
  path: '/v1/applications/transforms',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Summary jobs of the app: always empty, the summary is kept up to date as documents are written',
  params: NoParams,
  response: Type.Array(Type.Unknown()),
});

export const leekTransformsStart = defineApi({
  name: 'leek_transforms_start',
  namespace: 'leek',
  path: '/v1/applications/transforms/start',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: (re)start the summary job; nothing to start, answers "Done"',
  response: Done,
});

export const leekBrokerSet = defineApi({
  name: 'leek_broker_set',
  namespace: 'leek',
  path: '/v1/applications/broker',
  methods: ['PUT'],
  service: 'management',
  privilege: 'any',
  summary:
    'Owner: set the Celery broker of the app (redis://, rediss://, amqp:// or amqps://; internal hosts need SHALLOT_BROKER_ALLOW); answers the app',
  params: LeekBrokerBody,
  response: LeekApplication,
});

export const leekBrokerUnset = defineApi({
  name: 'leek_broker_unset',
  namespace: 'leek',
  path: '/v1/applications/broker',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Owner: forget the Celery broker of the app (control and broker calls answer 501 after); answers the app',
  params: NoParams,
  response: LeekApplication,
});

const Revocation = Type.Object(
  {
    terminate: Type.Optional(Type.Boolean({ default: false, description: 'Also kill the process running the task' })),
    signal: Type.Optional(Type.Union([Type.Literal('SIGTERM'), Type.Literal('SIGKILL')], { default: 'SIGTERM' })),
  },
  STRICT,
);

export const leekTaskRetry = defineApi({
  name: 'leek_task_retry',
  namespace: 'leek',
  path: '/v1/control/tasks/:task_uuid/retry',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary:
    'Send a finished task again under a new id, with its stored args and kwargs, to its exchange and routing key on the app’s broker',
  response: Type.Object({ task_id: Type.String({ description: 'Id of the new task' }) }),
});

export const leekTaskRetryByQuery = defineApi({
  name: 'leek_task_retry_by_query',
  namespace: 'leek',
  path: '/v1/control/tasks/retry-by-query',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary:
    'Send again every FAILED, REJECTED, REVOKED or CRITICAL task of the x-leek-app-env environment matching a search query (at most 10 000; dry_run: count them)',
  params: Type.Object(
    {
      query: Type.Record(Type.String(), Type.Unknown(), {
        description: 'A search body whose `query` (the /v1/search DSL subset) selects the tasks; {} = every task',
      }),
      dry_run: Type.Optional(Type.Boolean({ default: true })),
    },
    STRICT,
  ),
  response: Type.Union([
    Type.Object({
      eligible_tasks_count: Type.Integer(),
      ineligible_tasks_count: Type.Integer(),
      ineligible_tasks_ids: Type.Array(Type.String()),
    }),
    Type.Object({
      succeeded_retries_count: Type.Integer(),
      failed_retries_count: Type.Integer(),
      failed_retries: Type.Array(Type.String({ description: 'Ids of tasks no queue on the broker took' })),
      origin: Type.String({ description: 'The origin header of every task sent' }),
    }),
  ]),
});

const RevokeAnswer = Type.Object({
  acknowledged: Type.Boolean(),
  revocation_count: Type.Integer({ description: 'Task ids in the revoke command' }),
});

export const leekTaskRevokeById = defineApi({
  name: 'leek_task_revoke_by_id',
  namespace: 'leek',
  path: '/v1/control/tasks/:task_uuid/revoke-by-id',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Broadcast a Celery revoke of one unfinished task to every worker of the app’s broker',
  params: Revocation,
  response: RevokeAnswer,
});

export const leekTaskRevokeByName = defineApi({
  name: 'leek_task_revoke_by_name',
  namespace: 'leek',
  path: '/v1/control/tasks/:task_name/revoke-by-name',
  methods: ['POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Revoke every QUEUED, RECEIVED or STARTED task of that name in the x-leek-app-env environment (dry_run=true: count them)',
  params: Type.Object(
    {
      ...Revocation.properties,
      dry_run: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'Count only' })),
    },
    STRICT,
  ),
  response: Type.Object({
    acknowledged: Type.Optional(Type.Boolean()),
    revocation_count: Type.Integer(),
  }),
});

export const leekBrokerDrift = defineApi({
  name: 'leek_broker_drift',
  namespace: 'leek',
  path: '/v1/broker/drift',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary:
    'Latest indexed event time of the environment and the broker’s event queue; Celery events on Redis are a fanout with no queue, so its counts are -1',
  params: NoParams,
  response: Type.Object({
    queue_name: Type.String(),
    latest_event_timestamp: Type.Union([Type.Integer(), Type.Null()], { description: 'Epoch ms' }),
    messages: Type.Object({ total: Type.Integer(), unacked: Type.Integer() }),
    consumers_count: Type.Integer(),
  }),
});

const Rates = Type.Object({
  incoming: Type.Union([Type.Number(), Type.Null()]),
  deliver_get: Type.Union([Type.Number(), Type.Null()]),
  ack: Type.Union([Type.Number(), Type.Null()]),
});

export const LeekBrokerQueue = Type.Object({
  name: Type.String(),
  state: Type.String(),
  memory: Type.Integer({ description: 'Bytes Redis uses for the queue’s lists' }),
  consumers: Type.Integer({ description: 'Not known on Redis: -1' }),
  durable: Type.Boolean(),
  messages: Type.Object({
    ready: Type.Integer(),
    unacknowledged: Type.Integer({ description: 'Not known per queue on Redis: -1' }),
    total: Type.Integer(),
  }),
  rates: Rates,
});

export const leekBrokerQueues = defineApi({
  name: 'leek_broker_queues',
  namespace: 'leek',
  path: '/v1/broker/queues',
  methods: ['GET'],
  service: 'management',
  privilege: 'any',
  summary: 'Queues bound on the app’s Redis broker with their lengths (hide_pid_boxes=true leaves out control mailboxes); 501 on RabbitMQ',
  params: Type.Object({ hide_pid_boxes: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, STRICT),
  response: Type.Array(LeekBrokerQueue),
});

export const leekBrokerQueuePurge = defineApi({
  name: 'leek_broker_queue_purge',
  namespace: 'leek',
  path: '/v1/broker/queue/:queue_name/purge',
  methods: ['DELETE'],
  service: 'management',
  privilege: 'any',
  summary: 'Admin: delete every waiting message of a queue bound on the app’s broker',
  params: NoParams,
  response: Type.Object({ purged: Type.Integer({ description: 'Messages deleted' }) }),
});

export const LEEK_CONTROL_API = [
  leekWhoami,
  leekTransformsList,
  leekTransformsStart,
  leekBrokerSet,
  leekBrokerUnset,
  leekTaskRetry,
  leekTaskRetryByQuery,
  leekTaskRevokeById,
  leekTaskRevokeByName,
  leekBrokerDrift,
  leekBrokerQueues,
  leekBrokerQueuePurge,
] as const;
