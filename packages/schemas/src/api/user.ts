/** The session namespace `/api/user/*`: login, logout, resume_session. */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { Ok, OkEmpty } from '../responses.js';
import { PublicUser } from '../records/user.js';

const SessionPayload = Ok({
  username: Type.Optional(Type.String()),
  user: Type.Optional(PublicUser),
  session_id: Type.Optional(Type.String({ description: 'Also set as the HttpOnly session_id cookie' })),
  csrf_token: Type.Optional(Type.String({ description: 'Send as X-CSRF-Token with cookie-authenticated writes' })),
  expires: Type.Optional(Type.Integer({ description: 'Session expiry, epoch seconds' })),
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
