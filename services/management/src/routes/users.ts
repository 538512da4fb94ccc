/**
 * The user namespace `/api/user/*` beyond sessions (api-sections §8b): self-service update and delete, password
 * recovery, and user administration (administrators; admin API keys accepted), plus their `/api/app` aliases.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Caller,
  Errors,
  type Implementation,
  type ServiceContext,
  USERS,
  hashPassword,
  implement,
  userKey,
  verifyPassword,
} from '@shallot/core';
import {
  adminCreate,
  adminDelete,
  adminGetUser,
  adminGetUsers,
  adminUpdate,
  createUser,
  createUserApp,
  deleteSelf,
  deleteUserApp,
  forgotPassword,
  resetPassword,
  updateSelf,
  updateUserApp,
} from '@shallot/schemas';
import type { FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import { findUser, preferencesOf, publicView, requireUser } from '../users/accounts.js';
import { normalizeEmail, withEmailClaim } from '../users/emails.js';
import { UNLOCKED_FIELDS, clearLockout } from '../users/lockout.js';
import { allowRecovery, consumeRecoveryKey, issueRecoveryKey } from '../users/recovery.js';
import { type AccountDeps, createAccount, deleteAccount, endOtherSessions, updateAccount } from '../users/service.js';

/** forgot_password answers after up to this many ms, whatever happened (api-sections §8b). */
const MAX_FORGOT_DELAY_MS = 250;
const RESET_FAILED = 'Password reset failed.';

function caller(value: Caller | null): Caller {
  if (!value) throw new Errors.session('No Session ID or API Key could be found');
  return value;
}

/** The session user's own record; `username` must name them. */
async function ownAccount(ctx: ServiceContext, who: Caller, username: string) {
  if (userKey(username) !== userKey(who.username)) throw new Errors.user('You can only change your own account');
  return requireUser(await findUser(ctx, who.username), who.username);
}

async function checkPassword(password: string, user: Record<string, unknown>): Promise<void> {
  if (typeof user.password !== 'string' || !(await verifyPassword(password, user.password))) {
    throw new Errors.user('Your password is incorrect');
  }
}

export function userRoutes(deps: AccountDeps): Implementation[] {
  const { ctx } = deps;

  /** An administrator's create or update: `write` runs for the checked caller and the answer carries the user it returns. */
  const adminWriteHandler =
    (write: typeof createAccount | typeof updateAccount) =>
    async ({ params, caller: c, request }: { params: Record<string, unknown>; caller: Caller | null; request: FastifyRequest }) => ({
      code: 0 as const,
      user: await write(deps, request, caller(c), params),
    });
  const adminCreateHandler = adminWriteHandler(createAccount);
  const adminUpdateHandler = adminWriteHandler(updateAccount);
  const adminDeleteHandler = async ({
    params,
    caller: c,
    request,
  }: {
    params: { username: string };
    caller: Caller | null;
    request: FastifyRequest;
  }) => {
    const user = requireUser(await findUser(ctx, params.username), params.username);
    await deleteAccount(deps, request, caller(c), user, `Deleted by ${caller(c).username}`);
    return { code: 0 as const };
  };

  return [
    implement(createUser, async () => {
      throw new Errors.user('Only administrators can create new users');
    }),

    implement(updateSelf, async ({ params, caller: c, request }) => {
      const who = caller(c);
      const user = await ownAccount(ctx, who, params.username);
      await checkPassword(params.old_password, user);
      // Only profile and preferences: grants, restrictions and state are never self-service (api-sections §8b).
      const changes = preferencesOf(params);
      if (params.new_password !== undefined) {
        changes.password = await hashPassword(params.new_password);
        changes.force_password_change = false;
      }
      // A new address is the user's to show, not to derive orgs from: verified_email stays (users/emails.ts).
      if ('email' in changes) changes.email = normalizeEmail(changes.email);
      const claimed = 'email' in changes ? String(changes.email) : '';
      const updated = await withEmailClaim(ctx, user.id, claimed, () =>
        ctx.store.collections.update(USERS, user.id, changes, { expectRevision: user.revision }),
      );
      const shown = publicView(updated);
      await recordActivity(ctx, request, who, 'user_update', { description: who.username, keywords: [user.id], user: shown });
      if (params.new_password !== undefined) {
        await endOtherSessions(request.server, who);
        await recordActivity(ctx, request, who, 'user_password', { description: 'Password changed' }, { securityLogOf: who.username });
        if (typeof updated.email === 'string' && updated.email !== '') {
          await deps.mailer.send(
            {
              to: updated.email,
              subject: 'Your password was changed',
              body: `The password of "${who.username}" was changed. If this was not you, contact your administrator.`,
            },
            request.log,
          );
        }
      }
      return { code: 0 as const, user: shown };
    }),

    implement(deleteSelf, async ({ params, caller: c, request, reply }) => {
      const who = caller(c);
      const user = await ownAccount(ctx, who, params.username);
      await checkPassword(params.password, user);
      await deleteAccount(deps, request, who, user, 'Deleted own account');
      request.server.sessions.clearCookie(reply);
      return { code: 0 as const };
    }),

    implement(forgotPassword, async ({ params, request }) => {
      const started = Date.now();
      try {
        const user = await findUser(ctx, params.username);
        const matches =
          user && user.active !== false && typeof user.email === 'string' && user.email.toLowerCase() === params.email.trim().toLowerCase();
        if (matches && (await allowRecovery(ctx, String(user.username)))) {
          const { key, expires } = await issueRecoveryKey(ctx, String(user.username));
          await deps.mailer.send(
            {
              to: String(user.email),
              subject: 'Password recovery',
              body:
                `Someone asked to reset the password of "${user.username}". To choose a new one, call reset_password with ` +
                `username "${user.username}" and key ${key} before ${new Date(expires * 1000).toISOString()}. ` +
                'If this was not you, ignore this message.',
            },
            request.log,
          );
        }
      } catch (error) {
        // The answer never depends on what happened: log and carry on.
        request.log.error({ err: error }, 'forgot_password failed');
      }
      // Same answer, similar time, whether or not the user exists.
      const wait = randomInt(0, MAX_FORGOT_DELAY_MS) - (Date.now() - started);
      if (wait > 0) await sleep(wait);
      return { code: 0 as const };
    }),

    implement(resetPassword, async ({ params, request }) => {
      const user = await findUser(ctx, params.username);
      if (!user || user.active === false || !(await consumeRecoveryKey(ctx, params.username, params.key))) {
        throw new Errors.login(RESET_FAILED);
      }
      await ctx.store.collections.update(USERS, user.id, { password: await hashPassword(params.new_password), ...UNLOCKED_FIELDS });
      await clearLockout(ctx, String(user.username));
      await request.server.sessions.revokeAll(String(user.username));
      await recordActivity(
        ctx,
        request,
        null,
        'user_password',
        { username: String(user.username), description: 'Password reset with a recovery key', keywords: [user.id] },
        { securityLogOf: String(user.username) },
      );
      return { code: 0 as const };
    }),

    implement(adminGetUsers, async ({ params }) => {
      const { offset = 0, limit = 50 } = params;
      const page = await ctx.store.collections.list(USERS, { offset, limit, sort: [{ field: 'username', order: 'asc' }] });
      return { code: 0 as const, rows: page.rows.map(publicView), list: { length: page.total } };
    }),

    implement(adminGetUser, async ({ params }) => ({
      code: 0 as const,
      user: publicView(requireUser(await findUser(ctx, params.username), params.username)),
    })),

    implement(adminCreate, (call) => adminCreateHandler(call)),
    implement(adminUpdate, (call) => adminUpdateHandler(call)),
    implement(adminDelete, (call) => adminDeleteHandler(call)),
    implement(createUserApp, (call) => adminCreateHandler(call)),
    implement(updateUserApp, (call) => adminUpdateHandler(call)),
    implement(deleteUserApp, (call) => adminDeleteHandler(call)),
  ];
}
