/** `/api/user/login`, `logout`, `resume_session`: sessions as revocable JWTs, with a cookie and a CSRF token. */
import { Errors, type IssuedSession, USERS, implement, publicUser, userKey, verifyPassword } from '@shallot/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { login, logout, resumeSession } from '@shallot/schemas';
import type { Store } from '@shallot/store';

function sessionPayload(session: IssuedSession, user: Parameters<typeof publicUser>[0]) {
  return {
    code: 0 as const,
    username: String(user.username),
    user: publicUser(user),
    session_id: session.token,
    csrf_token: session.claims.csrf,
    expires: session.claims.exp,
  };
}

export function sessionRoutes(store: Store) {
  return [
    implement(login, async ({ params, request, reply }) => {
      const user = await store.collections.get(USERS, userKey(params.username));
      // One vague answer for unknown users and wrong passwords.
      const valid = user && typeof user.password === 'string' && (await verifyPassword(params.password, user.password));
      if (!user || !valid) throw new Errors.login('Username or password incorrect');
      if (user.active === false) throw new Errors.login('User account is disabled');
      const session = await request.server.sessions.issue(String(user.username));
      request.server.sessions.setCookie(request, reply, session);
      return sessionPayload(session, user);
    }),

    implement(logout, async ({ request, reply }) => {
      const caller = await request.server.sessions.resolve(request).catch(() => null);
      if (caller?.session) await request.server.sessions.revoke(caller.session);
      request.server.sessions.clearCookie(reply);
      return { code: 0 as const };
    }),

    implement(resumeSession, async ({ request, reply }) => {
      const caller = await resolveOrClear(request, reply);
      if (!caller) return { code: 0 as const };
      if (caller.kind !== 'session' || !caller.session) throw new Errors.session('resume_session needs a user session');
      const user = await store.collections.get(USERS, userKey(caller.username));
      if (!user) throw new Errors.session('Session user no longer exists');
      const session = await request.server.sessions.issue(String(user.username));
      await request.server.sessions.revoke(caller.session);
      request.server.sessions.setCookie(request, reply, session);
      return sessionPayload(session, user);
    }),
  ];
}

async function resolveOrClear(request: FastifyRequest, reply: FastifyReply) {
  try {
    return await request.server.sessions.resolve(request);
  } catch (error) {
    request.server.sessions.clearCookie(reply);
    throw error;
  }
}
