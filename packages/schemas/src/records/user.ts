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
    verified_email: Type.Optional(
      Type.String({ description: 'The address an administrator confirmed; task-monitor orgs derive from it, not from email' }),
    ),
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

/** What a user may change about themselves (`user_settings`, `update`): profile and UI preferences, nothing that grants. */
export const UserPreferences = Type.Object({
  full_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  email: Type.Optional(Type.String({ pattern: '^\\S+@\\S+$', maxLength: 256 })),
  icon: Type.Optional(Type.String({ pattern: '^[\\w-]*$', maxLength: 100 })),
  language: Type.Optional(Type.String({ maxLength: 32 })),
  region: Type.Optional(Type.String({ maxLength: 32 })),
  num_format: Type.Optional(Type.String({ maxLength: 32 })),
  hour_cycle: Type.Optional(Type.Union([Type.Literal(''), Type.Literal('h12'), Type.Literal('h24')])),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  color_acc: Type.Optional(Type.Boolean()),
  privacy_mode: Type.Optional(Type.Boolean()),
  notifications: Type.Optional(Type.Boolean()),
  effects: Type.Optional(Type.Boolean()),
  page_info: Type.Optional(Type.Boolean()),
  contrast: Type.Optional(Type.Union(['auto', 'high', 'normal', 'low'].map((v) => Type.Literal(v)))),
  motion: Type.Optional(Type.Union(['auto', 'full', 'reduced'].map((v) => Type.Literal(v)))),
  volume: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  filters: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Type.Number())),
  searches: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 1000 })),
  sidebar: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })),
});
export type UserPreferences = Static<typeof UserPreferences>;
/** The keys of `UserPreferences`: the allowlist of self-service updates. */
export const USER_PREFERENCE_KEYS: readonly string[] = Object.keys(UserPreferences.properties);

const IdList = Type.Array(Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 100 }), { maxItems: 10000 });

/** What an administrator sets on top of the preferences: grants, restrictions, state. */
export const UserAdminFields = Type.Object({
  privileges: Type.Optional(
    Type.Record(Type.String({ pattern: '^[a-z0-9_]+$' }), Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)])),
  ),
  roles: Type.Optional(IdList),
  categories: Type.Optional(IdList),
  groups: Type.Optional(IdList),
  active: Type.Optional(Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)])),
  force_password_change: Type.Optional(Type.Boolean()),
});
export const USER_ADMIN_KEYS: readonly string[] = Object.keys(UserAdminFields.properties);

/** Privileges a new user gets when the administrator gives none (behaviour §14 `default_user_privileges`). */
export const DEFAULT_USER_PRIVILEGES = ['create_events', 'edit_events', 'run_jobs', 'tag_jobs', 'create_tickets', 'edit_tickets'] as const;

/** Usernames refused for self-signup, case-insensitively (api-sections §8b). */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'self',
  'system',
  'abuse',
  'admin',
  'administrator',
  'localhost',
  '127.0.0.1',
  'nobody',
  'noreply',
  'root',
  'support',
  'sysadmin',
  'webmaster',
  'www',
  'god',
  'staff',
  'null',
  '0',
]);
