/**
 * `/api/user/login`, `logout`, `resume_session`: sessions as opaque stored ids, with a cookie and a CSRF token;
 * failed-login lockout, the `user_login` activity and the bootstrap bundle (api-sections §8b).
 */
import {
  Errors,
  type ServiceContext,
  type SessionClaims,
  effectivePermissions,
  hashPassword,
  implement,
  mustChangePassword,
  verifyPassword,
} from '@shallot/core';
import { login, logout, resumeSession } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import { findUser, publicView } from '../users/accounts.js';
import { bootstrapBundle } from '../users/bootstrap.js';
import { isLastActiveAdmin, isLockedOut, recordFailedLogin } from '../users/lockout.js';

const INCORRECT = 'Username or password incorrect';
const LOCKED = 'Account is locked out';

async function sessionPayload(ctx: ServiceContext, session: { token?: string | undefined; claims: SessionClaims }, user: CollectionRecord) {
  return {
    ...(await bootstrapBundle(ctx, await effectivePermissions(ctx.store, user))),
    code: 0 as const,
    username: String(user.username),
    user: publicView(user),
    ...(session.token ? { session_id: session.token } : {}),
    csrf_token: session.claims.csrf,
    expires: session.claims.exp,
    // Until a new password is chosen, every other call answers `password` (see api.ts).
    ...(mustChangePassword(user) ? { force_password_change: true } : {}),
  };
}

let dummyHash: Promise<string> | undefined;

/** Unknown users cost a password check too, so response times do not tell which usernames exist. */
async function spendPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('not-a-real-password');
  await verifyPassword(password, await dummyHash);
}

export function sessionRoutes(ctx: ServiceContext) {
  const isAdmin = async (record: CollectionRecord) => (await effectivePermissions(ctx.store, record)).privileges.admin === true;
  /**
   * `force_password_reset` (set by an administrator, or by the lockout of older versions) locks the account, except
   * the last active administrator's: nobody else could unlock it (issue 8, finding 6).
   */
  const lockedByFlag = async (user: CollectionRecord) =>
    (user.force_password_reset === true || user.force_password_reset === 1) && !(await isLastActiveAdmin(ctx, user, isAdmin));

  return [
    implement(login, async ({ params, request, reply }) => {
      const user = await findUser(ctx, params.username);
      const name = user ? String(user.username) : params.username;
      // Checked before the password: once locked, guesses learn nothing more. Unknown names lock the same way, so the
      // answer tells nothing about which accounts exist; a locked answer costs no password check (the message says
      // it is locked anyway), so hammering a lock burns no scrypt time.
      if (await isLockedOut(ctx, name, request.ip)) throw new Errors.login(LOCKED);
      if (!user || typeof user.password !== 'string') {
        await spendPasswordCheck(params.password);
        await recordFailedLogin(ctx, name, request.ip, undefined);
        throw new Errors.login(INCORRECT);
      }
      if (await lockedByFlag(user)) throw new Errors.login(LOCKED);
      if (!(await verifyPassword(params.password, user.password))) {
        const locked = await recordFailedLogin(ctx, name, request.ip, user);
        if (locked)
          request.log.warn(
            { username: user.username, ip: request.ip },
            'logins locked for an hour after repeated failures from this address',
          );
        throw new Errors.login(INCORRECT);
      }
      if (user.active === false || user.active === 0) throw new Errors.login('User account is disabled');
      const session = await request.server.sessions.issue(String(user.username));
      request.server.sessions.setCookie(request, reply, session);
      // The session's id, never its token: the token is a credential.
      await recordActivity(
        ctx,
        request,
        null,
        'user_login',
        {
          username: String(user.username),
          description: String(user.username),
          keywords: [user.id],
          session_id: session.claims.sid,
          user: publicView(user),
        },
        { securityLogOf: String(user.username) },
      );
      return sessionPayload(ctx, session, user);
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
      const user = await findUser(ctx, caller.username);
      if (!user) throw new Errors.session('Session user no longer exists');
      if (await lockedByFlag(user)) throw new Errors.login(LOCKED);
      // The same session, with its expiry moved on: other tabs and scripts using it keep working.
      const claims = await request.server.sessions.refresh(caller.session);
      const token = request.server.sessions.presented(request);
      if (token) request.server.sessions.setCookie(request, reply, { token, claims });
      return sessionPayload(ctx, { token, claims }, user);
    }),
  ];
}

async function resolveOrClear(request: FastifyRequest, reply: FastifyReply) {
  try {
    return await request.server.sessions.resolve(request, { skipCsrf: true });
  } catch (error) {
    request.server.sessions.clearCookie(reply);
    throw error;
  }
}
