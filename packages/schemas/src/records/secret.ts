/** Secret definitions (spec/data-structures.md §15): plaintext metadata; the values live encrypted elsewhere. */
import { type Static, Type } from '@sinclair/typebox';
import { IdList, Icon, Notes, Title } from './common.js';

/** One secret variable as clients send it; `value` is write-only. */
export const SecretField = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z_][\\w.-]*$' }),
    value: Type.String({ maxLength: 65536 }),
  },
  { $id: 'SecretField', additionalProperties: false },
);

export const Secret = Type.Object(
  {
    title: Title,
    enabled: Type.Optional(Type.Boolean()),
    icon: Type.Optional(Icon),
    notes: Type.Optional(Notes),
    /** Derived from `fields[].name`; clients may send it back, it is recomputed. */
    names: Type.Optional(Type.Array(Type.String(), { description: 'Variable names (derived, never values)' })),
    events: Type.Optional(IdList),
    categories: Type.Optional(IdList),
    plugins: Type.Optional(IdList),
    web_hooks: Type.Optional(IdList),
    fields: Type.Optional(
      Type.Array(SecretField, { maxItems: 1000, description: 'Input only: encrypted at rest, never answered (see decrypt_secret)' }),
    ),
  },
  { $id: 'Secret', additionalProperties: false },
);
export type Secret = Static<typeof Secret>;
