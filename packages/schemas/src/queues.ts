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
