/** Role definitions (spec/data-structures.md §16). */
import { type Static, Type } from '@sinclair/typebox';
import { IdList, Icon, Notes, Title } from './common.js';

/** `{<privilege>: true}`; false values are dropped before storing (api-sections §2). */
export const PrivilegeGrants = Type.Record(
  Type.String({ pattern: '^[a-z0-9_]+$' }),
  Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)]),
);

export const Role = Type.Object(
  {
    title: Title,
    enabled: Type.Optional(Type.Boolean({ description: 'Disabled roles contribute nothing' })),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    privileges: Type.Optional(PrivilegeGrants),
    categories: Type.Optional(IdList),
    groups: Type.Optional(IdList),
  },
  { $id: 'Role', additionalProperties: false },
);
export type Role = Static<typeof Role>;
