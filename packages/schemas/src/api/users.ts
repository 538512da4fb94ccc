/** The `/api/app/*` user calls (api-sections §8a and the seed's Users section). */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { PublicUser, UserPreferences } from '../records/user.js';
import { Ok, OkEmpty } from '../responses.js';
import { AdminCreateParams, AdminUpdateParams } from './user.js';

const Username = Type.String({ minLength: 1, maxLength: 64 });

export const userSettings = defineApi({
  name: 'user_settings',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Save your own profile and UI preferences; grants, restrictions and passwords are ignored',
  params: Type.Object(UserPreferences.properties, { additionalProperties: true }),
  response: Ok({ user: PublicUser }),
});

export const checkUserExists = defineApi({
  name: 'check_user_exists',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Whether a username (or one that normalises to the same key) is taken',
  params: Type.Object({ username: Username }),
  response: Ok({ user_exists: Type.Boolean() }),
});

export const logoutAll = defineApi({
  name: 'logout_all',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'End every other session of your account (password required); the current one stays',
  params: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }),
  response: OkEmpty,
});

export const ActivityRow = Type.Object(
  {
    id: Type.String(),
    action: Type.String(),
    epoch: Type.Number(),
    description: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    ip: Type.Optional(Type.String()),
    useragent: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const getUserActivity = defineApi({
  name: 'get_user_activity',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Your own security log, newest first (empty for API keys)',
  params: Type.Object({
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  }),
  response: Ok({ rows: Type.Array(ActivityRow), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) }),
});

const AvatarAnswer = Ok({ user: Type.Optional(PublicUser) });

export const uploadAvatar = defineApi({
  name: 'upload_avatar',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Upload your avatar (multipart/form-data, file field file1); stored as 64 and 256 px PNGs',
  response: AvatarAnswer,
});

export const adminUploadAvatar = defineApi({
  name: 'admin_upload_avatar',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: "Upload a user's avatar (multipart/form-data, file field file1, username in the query or a form field)",
  response: AvatarAnswer,
});

export const deleteAvatar = defineApi({
  name: 'delete_avatar',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'session',
  summary: 'Delete your avatar',
  params: Type.Object({}),
  response: AvatarAnswer,
});

export const adminDeleteAvatar = defineApi({
  name: 'admin_delete_avatar',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: "Delete a user's avatar",
  params: Type.Object({ username: Username }),
  response: AvatarAnswer,
});

export const avatar = defineApi({
  name: 'avatar',
  namespace: 'app',
  path: '/api/app/avatar/:file',
  methods: ['GET'],
  service: 'management',
  privilege: 'none',
  summary: "A user's avatar as PNG: /api/app/avatar/<username>.png?size=N (64 px when N ≤ 64, else 256); a default image otherwise",
  params: Type.Object({ size: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })) }),
  response: Type.Unknown({ description: 'image/png' }),
});

/** The seed's Users section names the administrative calls under /api/app as well (for API keys). */
export const createUserApp = defineApi({
  name: 'create_user',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Create a user (as /api/user/admin_create)',
  params: AdminCreateParams,
  response: Ok({ user: PublicUser }),
});

export const updateUserApp = defineApi({
  name: 'update_user',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Update a user (as /api/user/admin_update)',
  params: AdminUpdateParams,
  response: Ok({ user: PublicUser }),
});

export const deleteUserApp = defineApi({
  name: 'delete_user',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Delete a user (as /api/user/admin_delete)',
  params: Type.Object({ username: Username }),
  response: OkEmpty,
});

export const USERS_APP_API = [
  userSettings,
  checkUserExists,
  logoutAll,
  getUserActivity,
  uploadAvatar,
  adminUploadAvatar,
  deleteAvatar,
  adminDeleteAvatar,
  avatar,
  createUserApp,
  updateUserApp,
  deleteUserApp,
];
