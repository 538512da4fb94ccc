/** Alert definitions (spec/data-structures.md §8). */
import { type Static, Type } from '@sinclair/typebox';
import { IdList, Icon, Notes, OpenObject, Title } from './common.js';

export const Alert = Type.Object(
  {
    title: Title,
    expression: Type.String({ minLength: 1, maxLength: 4096, description: 'Evaluated against each server minute sample' }),
    message: Type.Optional(Type.String({ maxLength: 8192, description: '{{ }} template' })),
    enabled: Type.Optional(Type.Boolean()),
    icon: Type.Optional(Icon),
    groups: Type.Optional(IdList),
    actions: Type.Optional(Type.Array(OpenObject, { maxItems: 100, description: 'Conditions alert_new / alert_cleared' })),
    monitor_id: Type.Optional(Type.String({ pattern: '^[a-z0-9_]*$', maxLength: 100 })),
    samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    exclusive_actions: Type.Optional(Type.Boolean()),
    limit_jobs: Type.Optional(Type.Boolean()),
    abort_jobs: Type.Optional(Type.Boolean()),
    notes: Type.Optional(Notes),
    /** Legacy fields of the seed's example; kept for compatibility. */
    email: Type.Optional(Type.String({ maxLength: 8192 })),
    web_hook: Type.Optional(Type.String({ pattern: '^[a-z0-9_]*$', maxLength: 100 })),
  },
  { $id: 'Alert', additionalProperties: false },
);
export type Alert = Static<typeof Alert>;
