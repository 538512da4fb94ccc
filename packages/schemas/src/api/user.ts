/** The session namespace `/api/user/*` (api-sections §8b): sessions, self-service, recovery and user administration. */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { Ok, OkEmpty } from '../responses.js';
import { PublicUser, USERNAME_PATTERN, UserAdminFields, UserPreferences } from '../records/user.js';

const SessionPayload = Ok({
  username: Type.Optional(Type.String()),
  user: Type.Optional(PublicUser),
  session_id: Type.Optional(Type.String({ description: 'Also set as the HttpOnly session_id cookie' })),
  csrf_token: Type.Optional(Type.String({ description: 'Send as X-CSRF-Token with cookie-authenticated writes' })),
  expires: Type.Optional(Type.Integer({ description: 'Session expiry, epoch seconds' })),
  force_password_change: Type.Optional(
    Type.Boolean({ description: 'Present (true) when the user must choose a new password (user/update) before any other call' }),
  ),
});

export const login = defineApi({
  name: 'login',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Log in with a username and password; answers a session id and sets the session cookie',
  params: Type.Object({
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  }),
  response: SessionPayload,
});

export const logout = defineApi({
  name: 'logout',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'End the current session (always succeeds) and clear the session cookie',
  params: Type.Object({}),
  response: OkEmpty,
});

export const resumeSession = defineApi({
  name: 'resume_session',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Check the current session and answer its user; without a session answers code 0 and no user',
  params: Type.Object({}),
  response: SessionPayload,
});

const Username = Type.String({ pattern: USERNAME_PATTERN, minLength: 1, maxLength: 64 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
/** New passwords: long enough to matter, short enough for scrypt. */
export const NewPassword = Type.String({ minLength: 8, maxLength: 1024 });
const UserAnswer = Ok({ user: PublicUser });

export const createUser = defineApi({
  name: 'create',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Self-signup; refused unless free accounts are enabled (they are not)',
  params: Type.Object({}, { additionalProperties: true }),
  response: OkEmpty,
});

export const updateSelf = defineApi({
  name: 'update',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Update your own account (old_password required); grants, restrictions and state are ignored',
  params: Type.Object(
    {
      ...UserPreferences.properties,
      username: Username,
      old_password: Password,
      new_password: Type.Optional(NewPassword),
    },
    { additionalProperties: true },
  ),
  response: UserAnswer,
});

export const deleteSelf = defineApi({
  name: 'delete',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Delete your own account (password required); ends every session',
  params: Type.Object({ username: Username, password: Password }),
  response: OkEmpty,
});

export const forgotPassword = defineApi({
  name: 'forgot_password',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Send a one-use recovery key by e-mail when username and e-mail match; always answers code 0',
  params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), email: Type.String({ minLength: 1, maxLength: 256 }) }),
  response: OkEmpty,
});

export const resetPassword = defineApi({
  name: 'reset_password',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Set a new password with a recovery key; unlocks the account and ends its sessions',
  params: Type.Object({
    username: Type.String({ minLength: 1, maxLength: 64 }),
    new_password: NewPassword,
    key: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  }),
  response: OkEmpty,
});

export const adminGetUsers = defineApi({
  name: 'admin_get_users',
  namespace: 'user',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'List users (administrators; admin API keys accepted)',
  params: Type.Object({
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 50 })),
  }),
  response: Ok({ rows: Type.Array(PublicUser), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) }),
});

export const adminGetUser = defineApi({
  name: 'admin_get_user',
  namespace: 'user',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Fetch one user (administrators; admin API keys accepted)',
  params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) }),
  response: UserAnswer,
});

/** Fields of admin_create / create_user. */
export const AdminCreateParams = Type.Object(
  {
    ...UserPreferences.properties,
    ...UserAdminFields.properties,
    username: Username,
    email: Type.String({ pattern: '^\\S+@\\S+$', maxLength: 256 }),
    full_name: Type.String({ minLength: 1, maxLength: 256 }),
    password: NewPassword,
    send_email: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Fields of admin_update / update_user. */
export const AdminUpdateParams = Type.Object(
  {
    ...UserPreferences.properties,
    ...UserAdminFields.properties,
    username: Type.String({ minLength: 1, maxLength: 64 }),
    new_password: Type.Optional(NewPassword),
    unlock: Type.Optional(Type.Boolean()),
    /** Confirms the user's current `email` as the one their task-monitor orgs derive from. */
    verify_email: Type.Optional(Type.Boolean()),
    // Read back from admin_get_user and sent again: ignored.
    created: Type.Optional(Type.Unknown()),
    modified: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const adminCreate = defineApi({
  name: 'admin_create',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Create a user (administrators; admin API keys accepted)',
  params: AdminCreateParams,
  response: UserAnswer,
});

export const adminUpdate = defineApi({
  name: 'admin_update',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Update a user: grants, restrictions, state, new_password, unlock, verify_email (administrators; admin API keys accepted)',
  params: AdminUpdateParams,
  response: UserAnswer,
});

export const adminDelete = defineApi({
  name: 'admin_delete',
  namespace: 'user',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Delete a user, their security log and avatar; ends their sessions',
  params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) }),
  response: OkEmpty,
});

export const USER_NAMESPACE_API = [
  createUser,
  updateSelf,
  deleteSelf,
  forgotPassword,
  resetPassword,
  adminGetUsers,
  adminGetUser,
  adminCreate,
  adminUpdate,
  adminDelete,
];
