/** The `/api/app/*` user calls (api-sections §8a): settings, existence check, logout_all, security log, avatars. */
import {
  ACTIVITY_SCOPE,
  type Caller,
  Errors,
  type Implementation,
  USERS,
  USER_ACTIVITY_INDEX,
  implement,
  userKey,
  verifyPassword,
} from '@shallot/core';
import {
  USERNAME_PATTERN,
  adminDeleteAvatar,
  adminUploadAvatar,
  avatar,
  checkUserExists,
  deleteAvatar,
  getUserActivity,
  logoutAll,
  uploadAvatar,
  userSettings,
} from '@shallot/schemas';
import type { FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import { findUser, preferencesOf, publicView, requireUser } from '../users/accounts.js';
import {
  AVATAR_SIZES,
  MAX_AVATAR_BYTES,
  avatarKey,
  defaultAvatar,
  deleteAvatar as removeAvatar,
  servedSize,
  storeAvatar,
} from '../users/avatars.js';
import { normalizeEmail, withEmailClaim } from '../users/emails.js';
import { type AccountDeps, endOtherSessions } from '../users/service.js';

/** Avatars may be cached this long (seconds; behaviour §14 `ttl`). */
const AVATAR_TTL = 300;
const AVATAR_FILE = new RegExp(`^(${USERNAME_PATTERN.slice(1, -1)})\\.png$`);

function caller(value: Caller | null): Caller {
  if (!value) throw new Errors.session('No Session ID or API Key could be found');
  return value;
}

/** Reads the `file1` upload (and any form fields before it) of a multipart request. */
async function readUpload(request: FastifyRequest): Promise<{ image: Buffer; fields: Record<string, string> }> {
  if (!request.isMultipart()) throw new Errors.api('Send the image as multipart/form-data, in field file1');
  const file = await request.file({ limits: { fileSize: MAX_AVATAR_BYTES, files: 1 } });
  if (file?.fieldname !== 'file1') throw new Errors.api('Send the image in the multipart field file1');
  const image = await file.toBuffer();
  const fields: Record<string, string> = {};
  for (const [name, field] of Object.entries(file.fields)) {
    const value = Array.isArray(field) ? field[0] : field;
    if (value?.type === 'field' && typeof value.value === 'string') fields[name] = value.value;
  }
  return { image, fields };
}

export function userSettingsRoutes(deps: AccountDeps): Implementation[] {
  const { ctx, blobs } = deps;

  async function saveAvatar(username: string, image: Buffer) {
    const user = requireUser(await findUser(ctx, username), username);
    await storeAvatar(blobs, String(user.username), image);
    // Clients cache avatars by the user's modified time.
    return publicView(await ctx.store.collections.update(USERS, user.id, { avatar: true }));
  }

  async function dropAvatar(username: string) {
    const user = requireUser(await findUser(ctx, username), username);
    await removeAvatar(blobs, String(user.username));
    return publicView(await ctx.store.collections.update(USERS, user.id, { avatar: false }));
  }

  return [
    implement(userSettings, async ({ params, caller: c }) => {
      const who = caller(c);
      const user = requireUser(await findUser(ctx, who.username), who.username);
      // Not logged (api-sections §8a); grants, restrictions, passwords and state are ignored. A new address is the
      // user's to show, not to derive orgs from: verified_email stays (users/emails.ts).
      const changes = preferencesOf(params);
      if ('email' in changes) changes.email = normalizeEmail(changes.email);
      const claimed = 'email' in changes ? String(changes.email) : '';
      const updated = await withEmailClaim(ctx, user.id, claimed, () => ctx.store.collections.update(USERS, user.id, changes));
      return { code: 0 as const, user: publicView(updated) };
    }),

    implement(checkUserExists, async ({ params }) => ({
      code: 0 as const,
      user_exists: (await findUser(ctx, params.username)) !== undefined,
    })),

    implement(logoutAll, async ({ params, caller: c, request }) => {
      const who = caller(c);
      const user = requireUser(await findUser(ctx, who.username), who.username);
      if (typeof user.password !== 'string' || !(await verifyPassword(params.password, user.password))) {
        throw new Errors.login('Your password is incorrect');
      }
      await endOtherSessions(request.server, who);
      await recordActivity(ctx, request, who, 'notice', {
        description: `${who.username} logged out all other sessions`,
        keywords: [user.id],
      });
      await recordActivity(
        ctx,
        request,
        who,
        'warning',
        { description: 'All other sessions were logged out' },
        { securityLogOf: who.username, securityOnly: true },
      );
      return { code: 0 as const };
    }),

    implement(getUserActivity, async ({ params, caller: c }) => {
      const who = caller(c);
      const { offset = 0, limit = 50 } = params;
      // The log is looked up by username: an API key has none (api-sections §8a).
      if (who.kind === 'key') return { code: 0 as const, rows: [], list: { length: 0 } };
      const { hits, total } = await ctx.store.indexes.search(USER_ACTIVITY_INDEX.name, ACTIVITY_SCOPE, {
        query: { term: { field: 'owner', value: userKey(who.username) } },
        sort: [
          { field: 'epoch', order: 'desc' },
          { field: 'id', order: 'desc' },
        ],
        offset,
        limit,
      });
      const rows = hits.map(({ owner: _owner, ...row }) => row as typeof row & { action: string; epoch: number });
      return { code: 0 as const, rows, list: { length: total } };
    }),

    implement(uploadAvatar, async ({ caller: c, request }) => {
      const who = caller(c);
      const { image } = await readUpload(request);
      return { code: 0 as const, user: await saveAvatar(who.username, image) };
    }),

    implement(adminUploadAvatar, async ({ params, request }) => {
      const { image, fields } = await readUpload(request);
      const username = fields.username ?? (params as { username?: unknown }).username;
      if (typeof username !== 'string' || username === '') throw new Errors.api('Missing parameter: username');
      return { code: 0 as const, user: await saveAvatar(username, image) };
    }),

    implement(deleteAvatar, async ({ caller: c }) => ({ code: 0 as const, user: await dropAvatar(caller(c).username) })),

    implement(adminDeleteAvatar, async ({ params }) => ({ code: 0 as const, user: await dropAvatar(params.username) })),

    implement(avatar, async ({ params, request, reply }) => {
      const file = (request.params as { file?: string }).file ?? '';
      const match = AVATAR_FILE.exec(file);
      if (!match?.[1]) throw new Errors.notfound('Avatars are /api/app/avatar/<username>.png');
      const size = servedSize(params.size);
      const stored = userKey(match[1]) === '' ? undefined : await blobs.get(avatarKey(match[1], size));
      reply.type('image/png').header('cache-control', `public, max-age=${AVATAR_TTL}`);
      return (stored ?? (await defaultAvatar(size))) as never;
    }),
  ];
}

export { AVATAR_SIZES };
