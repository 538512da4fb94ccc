/** Account operations shared by the `/api/user/*` and `/api/app/*` user calls (api-sections §8). */
import {
  ACTIVITY_SCOPE,
  type BlobStore,
  type Caller,
  Errors,
  type ServiceContext,
  USERS,
  USER_ACTIVITY_INDEX,
  hashPassword,
  userKey,
} from '@shallot/core';
import { DEFAULT_USER_PRIVILEGES, type PublicUser } from '@shallot/schemas';
import { type CollectionRecord, StoreError } from '@shallot/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import type { Mailer } from '../mail.js';
import { adminFieldsOf, findUser, publicView, requireUser, withAdminRestrictionsCleared } from './accounts.js';
import { deleteAvatar } from './avatars.js';
import { normalizeEmail, withEmailClaim } from './emails.js';
import { UNLOCKED_FIELDS, clearLockout } from './lockout.js';
import { dropRecoveryKey } from './recovery.js';

type Fields = Record<string, unknown>;

export interface AccountDeps {
  ctx: ServiceContext;
  blobs: BlobStore;
  mailer: Mailer;
}

/** Creates a user (admin_create / create_user). Duplicate normalised usernames answer `user_exists`. */
export async function createAccount(deps: AccountDeps, request: FastifyRequest, caller: Caller, params: Fields): Promise<PublicUser> {
  const { ctx } = deps;
  const username = String(params.username);
  const id = userKey(username);
  if (id === '') throw new Errors.api('The username needs at least one letter or digit');
  if (await findUser(ctx, username)) throw new Errors.userExists(`User already exists: ${username}`);
  const fields = adminFieldsOf(params);
  let record: Fields = {
    id,
    username,
    full_name: username,
    email: '',
    privileges: Object.fromEntries(DEFAULT_USER_PRIVILEGES.map((p) => [p, true])),
    roles: [],
    categories: [],
    groups: [],
    ...fields,
    // Always active on create (api-sections §8b).
    active: true,
    password: await hashPassword(String(params.password)),
  };
  // An administrator sets the address, so it is the verified one too (users/emails.ts).
  record.email = normalizeEmail(record.email);
  record.verified_email = record.email;
  record = await withAdminRestrictionsCleared(ctx, record);
  let created: CollectionRecord;
  try {
    created = await withEmailClaim(ctx, id, String(record.email), () => ctx.store.collections.create(USERS, { ...record, id }));
  } catch (error) {
    if (error instanceof StoreError && error.kind === 'conflict') throw new Errors.userExists(`User already exists: ${username}`);
    throw error;
  }
  const shown = publicView(created);
  await recordActivity(ctx, request, caller, 'user_create', {
    username,
    admin: caller.username,
    description: username,
    keywords: [id],
    user: shown,
  });
  if (params.send_email === true && typeof created.email === 'string' && created.email !== '') {
    await deps.mailer.send(
      {
        to: created.email,
        subject: 'Your new account',
        body: `An account "${username}" was created for you. Your administrator will tell you how to log in.`,
      },
      request.log,
    );
  }
  return shown;
}

/** Applies an administrator's changes (admin_update / update_user): grants, state, new password, unlock. */
export async function updateAccount(deps: AccountDeps, request: FastifyRequest, caller: Caller, params: Fields): Promise<PublicUser> {
  const { ctx } = deps;
  const username = String(params.username);
  const user = requireUser(await findUser(ctx, username), username);
  let changes = adminFieldsOf(params);
  const newPassword = typeof params.new_password === 'string';
  if (newPassword) changes.password = await hashPassword(String(params.new_password));
  // A new password unlocks too (api-sections §8b).
  if (newPassword || params.unlock === true) {
    changes = { ...changes, ...UNLOCKED_FIELDS };
    await clearLockout(ctx, String(user.username));
    await dropRecoveryKey(ctx, String(user.username));
  }
  // An address an administrator sets is confirmed by that; `verify_email` confirms the one the user set themself.
  if ('email' in changes) changes.email = normalizeEmail(changes.email);
  if ('email' in changes || params.verify_email === true) changes.verified_email = normalizeEmail(changes.email ?? user.email);
  const merged: Fields = { ...user, ...changes };
  // withAdminRestrictionsCleared answers a new object only when it cleared something.
  if ((await withAdminRestrictionsCleared(ctx, merged)) !== merged) changes = { ...changes, categories: [], groups: [] };
  const claimed = 'email' in changes ? String(changes.email) : '';
  const updated = await withEmailClaim(ctx, user.id, claimed, () =>
    ctx.store.collections.update(USERS, user.id, changes, { expectRevision: user.revision }),
  );
  // A disabled user or a new password ends every session of that user.
  if (newPassword || updated.active === false) await request.server.sessions.revokeAll(String(user.username));
  const shown = publicView(updated);
  await recordActivity(ctx, request, caller, 'user_update', {
    username: String(user.username),
    admin: caller.username,
    description: String(user.username),
    keywords: [user.id],
    user: shown,
    changed: Object.keys(changes).filter((k) => k !== 'password'),
  });
  if (newPassword) {
    await recordActivity(
      ctx,
      request,
      caller,
      'user_password',
      { username: String(user.username), admin: caller.username, description: 'Password changed by an administrator' },
      { securityLogOf: String(user.username) },
    );
  }
  return shown;
}

/** Deletes a user with everything that is theirs: sessions, security log, avatar, recovery key. */
export async function deleteAccount(
  deps: AccountDeps,
  request: FastifyRequest,
  caller: Caller,
  user: CollectionRecord,
  description: string,
): Promise<void> {
  const { ctx } = deps;
  const username = String(user.username);
  if (!(await ctx.store.collections.delete(USERS, user.id))) throw new Errors.user(`User not found: ${username}`);
  await request.server.sessions.revokeAll(username);
  await ctx.store.indexes.deleteByQuery(USER_ACTIVITY_INDEX.name, ACTIVITY_SCOPE, { term: { field: 'owner', value: user.id } });
  await deleteAvatar(deps.blobs, username);
  await dropRecoveryKey(ctx, username);
  await clearLockout(ctx, username);
  await recordActivity(ctx, request, caller, 'user_delete', {
    username,
    admin: caller.username,
    description,
    keywords: [user.id],
    user: publicView(user),
  });
}

/** Ends every session of a user but the caller's own (logout_all, own password change). */
export async function endOtherSessions(app: FastifyInstance, caller: Caller): Promise<void> {
  await app.sessions.revokeAll(caller.username, caller.session ? { keep: caller.session } : {});
}
