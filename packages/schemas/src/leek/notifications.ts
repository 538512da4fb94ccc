/**
 * The `notify` queue message ingest produces for a task whose stored state changed (edge-triggered: unchanged and
 * redelivered documents produce none), when at least one trigger of the app could match it (enabled, env filter on
 * the batch header, state filter — spec §4.2 steps 1–3, applied again by the consumer with the other rules).
 * Consumers dedupe on (org, app, task.uuid, task.state).
 */
import { type Static, Type } from '@sinclair/typebox';
import { APP_ENV_PATTERN, APP_NAME_PATTERN, ORG_PATTERN } from './naming.js';

/** The merged task document as stored after the write (leek-agent-protocol §7 fields; others pass through). */
export const LeekNotifiedTask = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    uuid: Type.String({ minLength: 1 }),
    kind: Type.Literal('task'),
    state: Type.String({ description: 'Task state after the merge (leek-agent-protocol §5)' }),
    app_env: Type.String(),
    timestamp: Type.Integer(),
    events: Type.Array(Type.String()),
    events_count: Type.Integer(),
    name: Type.Optional(Type.String()),
    worker: Type.Optional(Type.String()),
    runtime: Type.Optional(Type.Number()),
    retries: Type.Optional(Type.Integer()),
    exception: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type LeekNotifiedTask = Static<typeof LeekNotifiedTask>;

export const LeekTaskNotification = Type.Object(
  {
    kind: Type.Literal('leek_task'),
    data: Type.Object(
      {
        org: Type.String({ pattern: ORG_PATTERN }),
        app: Type.String({ pattern: APP_NAME_PATTERN }),
        /** The batch's `x-leek-app-env` header: trigger env filters use it, not the document's `app_env` (spec §4.2). */
        app_env: Type.String({ pattern: APP_ENV_PATTERN }),
        task: LeekNotifiedTask,
        previous_state: Type.Union([Type.String(), Type.Null()], { description: 'Stored state before the write; null for a new task' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'LeekTaskNotification', additionalProperties: false },
);
export type LeekTaskNotification = Static<typeof LeekTaskNotification>;
