/** Notification channel definitions (spec/data-structures.md §13). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, Title } from './common.js';

export const Channel = Type.Object(
  {
    title: Title,
    enabled: Type.Optional(Type.Boolean()),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    users: Type.Optional(Type.Array(Type.String({ pattern: '^[\\w\\-.]+$', maxLength: 64 }), { maxItems: 10000 })),
    email: Type.Optional(Type.String({ maxLength: 8192, description: 'Extra addresses, comma-separated' })),
    web_hook: Type.Optional(Type.String({ pattern: '^[a-z0-9_]*$', maxLength: 100 })),
    run_event: Type.Optional(Type.String({ pattern: '^[a-z0-9_]*$', maxLength: 100 })),
    sound: Type.Optional(Type.String({ pattern: '^([\\w\\-. ]+\\.mp3)?$', maxLength: 256 })),
    max_per_day: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: 'Channel', additionalProperties: false },
);
export type Channel = Static<typeof Channel>;
