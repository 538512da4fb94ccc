/** Task-monitor agent documents as POSTed to `/v1/events/process` (leek-agent-protocol §5, §7, §8), with their state sets. */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';

function literalUnion<const T extends readonly string[]>(
  values: T,
  options: { $id?: string; description: string },
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  );
}

/** Every task state, in lifecycle order; RECOVERED and CRITICAL are derived (never emitted by Celery). */
export const TASK_STATES = [
  'QUEUED',
  'RECEIVED',
  'STARTED',
  'RETRY',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'REVOKED',
  'RECOVERED',
  'CRITICAL',
] as const;
export const TaskState = literalUnion(TASK_STATES, { $id: 'LeekTaskState', description: 'Task state (leek-agent-protocol §5)' });
export type TaskState = Static<typeof TaskState>;
/** TaskState without its `$id`, for a second use inside one schema (Ajv rejects a schema that declares an `$id` twice). */
const TaskStateItem = literalUnion(TASK_STATES, { description: 'Task state' });

/** The states a Celery event maps to (all but the derived RECOVERED and CRITICAL). */
export type CeleryTaskState = Exclude<TaskState, 'RECOVERED' | 'CRITICAL'>;

/** Celery event type → task state. */
export const TASK_EVENT_STATES: Readonly<Record<string, CeleryTaskState>> = {
  'task-sent': 'QUEUED',
  'task-received': 'RECEIVED',
  'task-started': 'STARTED',
  'task-retried': 'RETRY',
  'task-succeeded': 'SUCCEEDED',
  'task-failed': 'FAILED',
  'task-rejected': 'REJECTED',
  'task-revoked': 'REVOKED',
};

/** The per-state timestamp field (ms) each Celery state sets; derived states have none. */
export const TASK_STATE_TIMESTAMP_FIELDS: Readonly<Record<CeleryTaskState, string>> = {
  QUEUED: 'queued_at',
  RECEIVED: 'received_at',
  STARTED: 'started_at',
  RETRY: 'retried_at',
  SUCCEEDED: 'succeeded_at',
  FAILED: 'failed_at',
  REJECTED: 'rejected_at',
  REVOKED: 'revoked_at',
};

/** Finished tasks (Celery's "ready" states plus the derived ones): a late non-terminal event never changes their state. */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'REVOKED',
  'RECOVERED',
  'CRITICAL',
]);
/** Tasks that have not finished yet (RETRY is neither ready nor listed here, as in the protocol). */
export const UNREADY_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['QUEUED', 'RECEIVED', 'STARTED']);
export const SUCCESS_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['SUCCEEDED', 'RECOVERED']);
export const EXCEPTION_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['FAILED', 'RETRY', 'REJECTED', 'REVOKED', 'CRITICAL']);
/** States a bulk re-run may pick up. */
export const RETRY_ALLOWED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['FAILED', 'REJECTED', 'REVOKED', 'CRITICAL']);

export const isTerminalTaskState = (state: unknown): state is TaskState => TERMINAL_TASK_STATES.has(state as TaskState);

export const WORKER_STATES = ['ONLINE', 'HEARTBEAT', 'OFFLINE'] as const;
export const WorkerState = literalUnion(WORKER_STATES, {
  $id: 'LeekWorkerState',
  description: 'Worker state (leek-agent-protocol §5); workers have no terminal state',
});
export type WorkerState = Static<typeof WorkerState>;

export const WORKER_EVENT_STATES: Readonly<Record<string, WorkerState>> = {
  'worker-online': 'ONLINE',
  'worker-heartbeat': 'HEARTBEAT',
  'worker-offline': 'OFFLINE',
};

export const WORKER_STATE_TIMESTAMP_FIELDS: Readonly<Record<WorkerState, string>> = {
  ONLINE: 'online_at',
  HEARTBEAT: 'last_heartbeat_at',
  OFFLINE: 'offline_at',
};

/** A task document's `events` history keeps at most this many states, newest first. */
export const MAX_TASK_EVENTS = 21;
/** `traceback` and the error texts are cut to this many characters by the agent. */
export const MAX_TRACEBACK_LENGTH = 30_000;
/** Each `args_N` is cut to this many characters; there are at most ten of them. */
export const MAX_ARG_LENGTH = 256;

const Millis = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });
const ArgN = () =>
  Type.Optional(Type.String({ maxLength: MAX_ARG_LENGTH, description: 'Positional argument rendered with Python str(), derived' }));

/** Fields every agent document carries, task or worker. */
const common = {
  id: Type.String({ minLength: 1, description: 'Document identity (task uuid, worker hostname); transport only, not a stored field' }),
  app_env: Type.String({ description: "The agent's configured environment" }),
  updated_at: Millis('Agent wall clock when the event was validated'),
  timestamp: Millis('Event time, floor(exact_timestamp × 1000)'),
  exact_timestamp: Type.Number({ description: 'Event time in epoch seconds, verbatim from Celery: the ordering key of merges' }),
  utcoffset: Type.Integer(),
  pid: Type.Integer(),
  clock: Type.Integer({ description: 'Celery logical clock' }),
};

/**
 * A task document as the agent POSTs it (protocol §7): one event, or several events of one task collapsed by the
 * agent. Nulls are never sent (absent means null), so no field is nullable. Unknown properties are allowed: newer
 * agents may send more fields.
 */
export const TaskDocument = Type.Object(
  {
    ...common,
    uuid: Type.String({ minLength: 1 }),
    kind: Type.Literal('task'),
    state: TaskState,

    // Input (QUEUED, RECEIVED)
    name: Type.Optional(Type.String()),
    name_parts: Type.Optional(
      Type.Object({ module: Type.String(), function: Type.String() }, { description: 'name split at its last dot; derived' }),
    ),
    args: Type.Optional(Type.String({ description: 'Python repr, possibly truncated by Celery' })),
    kwargs: Type.Optional(Type.String({ description: 'Python repr, possibly truncated by Celery' })),
    args_0: ArgN(),
    args_1: ArgN(),
    args_2: ArgN(),
    args_3: ArgN(),
    args_4: ArgN(),
    args_5: ArgN(),
    args_6: ArgN(),
    args_7: ArgN(),
    args_8: ArgN(),
    args_9: ArgN(),
    kwargs_flattened: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
        description: 'Keyword arguments flattened to dotted keys with scalar values; derived',
      }),
    ),
    root_id: Type.Optional(Type.String()),
    parent_id: Type.Optional(Type.String()),
    eta: Type.Optional(Millis('Earliest execution time')),
    expires: Type.Optional(Millis('Expiry time')),
    retries: Type.Optional(Type.Integer({ description: 'Retries so far; > 0 turns SUCCEEDED into RECOVERED and FAILED into CRITICAL' })),

    // Routing (QUEUED)
    exchange: Type.Optional(Type.String({ description: 'May be "" (the default exchange)' })),
    routing_key: Type.Optional(Type.String()),
    queue: Type.Optional(Type.String()),
    client: Type.Optional(Type.String({ description: 'Publisher hostname (QUEUED)' })),
    worker: Type.Optional(Type.String({ description: 'Consumer hostname (every state but QUEUED)' })),

    // Per-state timestamps
    queued_at: Type.Optional(Millis('QUEUED')),
    received_at: Type.Optional(Millis('RECEIVED')),
    started_at: Type.Optional(Millis('STARTED')),
    retried_at: Type.Optional(Millis('RETRY')),
    succeeded_at: Type.Optional(Millis('SUCCEEDED')),
    failed_at: Type.Optional(Millis('FAILED')),
    rejected_at: Type.Optional(Millis('REJECTED')),
    revoked_at: Type.Optional(Millis('REVOKED')),

    // Outcome
    result: Type.Optional(Type.String({ description: 'Python repr (SUCCEEDED)' })),
    runtime: Type.Optional(Type.Number({ description: 'Seconds (SUCCEEDED)' })),
    exception: Type.Optional(Type.String()),
    traceback: Type.Optional(Type.String({ maxLength: MAX_TRACEBACK_LENGTH })),
    lang: Type.Optional(Type.String({ description: 'python | unknown' })),
    error: Type.Optional(Type.Object({ type: Type.String(), message: Type.String() })),
    stack: Type.Optional(Type.Array(Type.Unknown(), { description: 'Stack frames; currently always []' })),
    trace: Type.Optional(
      Type.Object(
        { raw: Type.String(), text: Type.String(), wc: Type.String() },
        { description: 'The traceback three times: stored, full-text, wildcard' },
      ),
    ),
    requeue: Type.Optional(Type.Boolean()),
    terminated: Type.Optional(Type.Boolean()),
    expired: Type.Optional(Type.Boolean()),
    signum: Type.Optional(Type.Union([Type.Integer(), Type.String()])),

    // History
    events: Type.Array(TaskStateItem, {
      minItems: 1,
      maxItems: MAX_TASK_EVENTS,
      description: 'States of the events collapsed into this document, newest first',
    }),
    events_count: Type.Integer({ minimum: 1, description: 'Number of events collapsed into this document' }),
  },
  { $id: 'LeekTaskDocument', additionalProperties: true },
);
export type TaskDocument = Static<typeof TaskDocument>;

/** A worker document as the agent POSTs it (protocol §8). Workers have `events_count` but no `events` list. */
export const WorkerDocument = Type.Object(
  {
    ...common,
    hostname: Type.String({ minLength: 1 }),
    kind: Type.Literal('worker'),
    state: WorkerState,
    online_at: Type.Optional(Millis('ONLINE')),
    last_heartbeat_at: Type.Optional(Millis('HEARTBEAT')),
    offline_at: Type.Optional(Millis('OFFLINE')),
    sw_ident: Type.String(),
    sw_ver: Type.String(),
    sw_sys: Type.String(),
    freq: Type.Number({ description: 'Heartbeat interval, seconds' }),
    active: Type.Optional(Type.Integer()),
    processed: Type.Optional(Type.Integer()),
    loadavg: Type.Optional(Type.Array(Type.Number(), { minItems: 3, maxItems: 3 })),
    events_count: Type.Integer({ minimum: 1, description: 'Number of events collapsed into this document' }),
  },
  { $id: 'LeekWorkerDocument', additionalProperties: true },
);
export type WorkerDocument = Static<typeof WorkerDocument>;

/** One element of an ingest batch; `kind` tells which. */
export const LeekDocument = Type.Union([TaskDocument, WorkerDocument], { $id: 'LeekDocument' });
export type LeekDocument = Static<typeof LeekDocument>;
