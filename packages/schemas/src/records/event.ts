/** Event definitions (spec/data-structures.md §1): what a job runs, where, with which limits and actions. */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, OpenObject, Title } from './common.js';
import { PluginParam } from './plugin.js';

/** Server-selection algorithms (behaviour §9.3); `monitor:<id>` is accepted by the section's own check. */
export const EVENT_ALGOS = [
  'random',
  'round_robin',
  'least_cpu',
  'least_mem',
  'fewest_jobs',
  'prefer_first_natural',
  'prefer_last_natural',
  'prefer_first',
  'prefer_last',
] as const;

/** Target ids: server ids (hostname-like) and group ids. */
const TargetId = Type.String({ pattern: '^[\\w.-]+$', minLength: 1, maxLength: 100 });
const TagId = Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 100 });

/**
 * One trigger. Stored loosely (type and enabled checked here); the scheduler owns the semantics of each type and
 * their strict validation.
 */
export const EventTrigger = Type.Object(
  { type: Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 40 }), enabled: Type.Boolean() },
  { $id: 'EventTrigger', additionalProperties: true },
);

export const EventWorkflow = Type.Object(
  {
    start: Type.Optional(Type.String({ maxLength: 100 })),
    nodes: Type.Array(OpenObject, { maxItems: 1000 }),
    connections: Type.Array(OpenObject, { maxItems: 5000 }),
  },
  { additionalProperties: true },
);

export const Event = Type.Object(
  {
    title: Title,
    enabled: Type.Union([Type.Boolean(), Type.Number(), Type.Literal('true'), Type.Literal('false')], {
      description: 'Disabled events do not run, except test runs; numbers and "true"/"false" are stored as booleans',
    }),
    type: Type.Optional(Type.Union([Type.Literal('workflow'), Type.Literal('')])),
    category: Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 100 }),
    plugin: Type.Optional(Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 100 })),
    params: Type.Optional(OpenObject),
    fields: Type.Optional(Type.Array(PluginParam, { maxItems: 1000 })),
    tags: Type.Optional(Type.Array(TagId, { maxItems: 1000 })),
    targets: Type.Optional(Type.Array(TargetId, { maxItems: 1000 })),
    expression: Type.Optional(Type.String({ maxLength: 4096 })),
    algo: Type.Optional(Type.String({ pattern: '^[\\w:]+$', maxLength: 120 })),
    triggers: Type.Optional(Type.Array(EventTrigger, { maxItems: 1000 })),
    limits: Type.Optional(Type.Array(OpenObject, { maxItems: 1000 })),
    actions: Type.Optional(Type.Array(OpenObject, { maxItems: 1000 })),
    workflow: Type.Optional(EventWorkflow),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    update_state: Type.Optional(
      Type.Record(Type.String({ pattern: '^\\w+$' }), Type.Unknown(), {
        description: 'Input only: key/values written to the event state (e.g. {cursor: ts}), never stored on the event',
      }),
    ),
  },
  { $id: 'Event', additionalProperties: false },
);
export type Event = Static<typeof Event>;
