/** Server group definitions (spec/data-structures.md §11). */
import { type Static, Type } from '@sinclair/typebox';
import { Icon, Notes, OpenObject, SortOrder, Title } from './common.js';

export const Group = Type.Object(
  {
    title: Title,
    hostname_match: Type.String({ maxLength: 1024, description: 'Regex for auto-assignment (.+ = all; empty = none)' }),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    alert_actions: Type.Optional(Type.Array(OpenObject, { maxItems: 100, description: 'Added to every alert on member servers' })),
    max_jobs_per_server: Type.Optional(Type.Integer({ minimum: 0 })),
    sort_order: Type.Optional(SortOrder),
  },
  { $id: 'Group', additionalProperties: false },
);
export type Group = Static<typeof Group>;
