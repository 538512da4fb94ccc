/** BullMQ queue names and their payload schemas. */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

export interface QueueDefinition<T extends TSchema = TSchema> {
  /** BullMQ queue name (no colons: BullMQ reserves them). */
  name: string;
  payload: T;
}

/** Follow-up notifications: Slack / web hook deliveries, produced after writes, consumed by job-runner. */
export const NotifyPayload = Type.Object(
  {
    kind: Type.String({ minLength: 1, description: 'What to deliver, e.g. slack, web_hook' }),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'NotifyPayload' },
);
export type NotifyPayload = Static<typeof NotifyPayload>;

/** A request to run a job on one server. */
export const RunPayload = Type.Object(
  {
    job_id: Type.String({ minLength: 1 }),
    event: Type.Optional(Type.String()),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'RunPayload' },
);
export type RunPayload = Static<typeof RunPayload>;

export const notifyQueue: QueueDefinition<typeof NotifyPayload> = { name: 'notify', payload: NotifyPayload };

/** Each job-runner server consumes its own run queue. */
export function runQueue(serverId: string): QueueDefinition<typeof RunPayload> {
  return { name: `run.${serverId}`, payload: RunPayload };
}

/**
 * A scheduled launch: the scheduler's request to start one job of an event for one slot (behaviour §8 "Launch").
 * `key` (`<event>.<now>`) is also the BullMQ job id, so queueing the same slot twice adds nothing.
 */
export const ScheduleLaunchPayload = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 200 }),
    event: Type.String({ minLength: 1, maxLength: 100 }),
    /** The slot: the job's nominal run time (`job.now`), epoch seconds. */
    now: Type.Integer({ minimum: 0 }),
    /** The minute that was evaluated (equals `now` unless a precision/interval second offset applies). */
    minute: Type.Integer({ minimum: 0 }),
    source: Type.Union([Type.Literal('scheduler'), Type.Literal('plugin'), Type.Literal('startup')]),
    /** The trigger type that matched (`stype`), absent for `schedule`. */
    stype: Type.Optional(Type.String()),
    /** The matching trigger's id (a workflow's `workflow.start`). */
    trigger: Type.Optional(Type.String()),
    /** `start_delay` with `until` for delay, precision and interval offsets. */
    state: Type.Optional(Type.Literal('start_delay')),
    until: Type.Optional(Type.Integer({ minimum: 0 })),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    tags: Type.Optional(Type.Array(Type.String())),
    data: Type.Optional(Type.Unknown()),
    invisible: Type.Optional(Type.Boolean()),
    ephemeral: Type.Optional(Type.Boolean()),
    splugin: Type.Optional(Type.String()),
    /** The fencing token of the scheduler lease under which the slot was claimed. */
    fence: Type.Integer({ minimum: 1 }),
  },
  { $id: 'ScheduleLaunchPayload' },
);
export type ScheduleLaunchPayload = Static<typeof ScheduleLaunchPayload>;

/** Scheduled launches, consumed by the job run path. */
export const scheduleLaunchQueue: QueueDefinition<typeof ScheduleLaunchPayload> = {
  name: 'schedule.launch',
  payload: ScheduleLaunchPayload,
};
/** A job waiting for a server: any job-runner's dispatcher picks one and moves the job to that server's run queue. */
export const DispatchPayload = Type.Object({ job_id: Type.String({ minLength: 1 }) }, { $id: 'DispatchPayload' });
export type DispatchPayload = Static<typeof DispatchPayload>;
export const dispatchQueue: QueueDefinition<typeof DispatchPayload> = { name: 'dispatch', payload: DispatchPayload };
