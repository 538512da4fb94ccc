/** User records (spec/data-structures.md §17) as far as identities need them now. */
import { type Static, Type } from '@sinclair/typebox';

export const USERNAME_PATTERN = '^[\\w\\-.]+$';

export const Privileges = Type.Record(Type.String(), Type.Boolean(), { $id: 'Privileges' });

/** A user as the API shows it: never the password hash or salt. */
export const PublicUser = Type.Object(
  {
    username: Type.String({ pattern: USERNAME_PATTERN, maxLength: 64 }),
    full_name: Type.String(),
    email: Type.String(),
    active: Type.Boolean(),
    privileges: Privileges,
    roles: Type.Array(Type.String()),
    categories: Type.Array(Type.String()),
    groups: Type.Array(Type.String()),
    created: Type.Integer(),
    modified: Type.Integer(),
  },
  { $id: 'PublicUser', additionalProperties: true },
);
export type PublicUser = Static<typeof PublicUser>;

/** The stored user: the public record plus the scrypt hash. */
export const StoredUser = Type.Composite([PublicUser, Type.Object({ password: Type.String(), id: Type.String() })]);
export type StoredUser = Static<typeof StoredUser>;
