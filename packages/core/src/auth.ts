/**
 * Resolves the caller of every request (spec/behaviour.md §1): a session (cookie, X-Session-ID, bearer token or
 * `session_id` param) wins over an API key (X-API-Key, `api_key` in the body, then the query). A bad session never
 * falls through to a key. Sessions are revocable JWTs; keys are looked up by their SHA-256.
 */
import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Privilege } from '@shallot/schemas';
import type { Store } from '@shallot/store';
import { Errors } from './errors.js';
import { API_KEYS, type Caller, type SessionClaims, USERS, effectivePermissions, hashApiKey, publicUser, userKey } from './identity.js';
import { randomToken } from './ids.js';
import { safeEqual } from './passwords.js';
import type { RedisWiring } from './redis.js';

export const SESSION_COOKIE = 'session_id';
const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyInstance {
    sessions: SessionManager;
  }
}

export interface AuthOptions {
  store: Store;
  redis: RedisWiring;
  secretKey: string;
  sessionDays: number;
}

export interface IssuedSession {
  token: string;
  claims: SessionClaims;
}

export interface SessionManager {
  issue(username: string): Promise<IssuedSession>;
  /** Revokes one session until it would have expired anyway. */
  revoke(claims: SessionClaims): Promise<void>;
  /** Revokes every session of a user issued up to now, except `keep` (the caller's own, for logout_all). */
  revokeAll(username: string, options?: { keep?: SessionClaims }): Promise<void>;
  /** Sets the session cookie on a reply (HttpOnly, SameSite=Lax, Secure over HTTPS). */
  setCookie(request: FastifyRequest, reply: FastifyReply, session: IssuedSession): void;
  clearCookie(reply: FastifyReply): void;
  /**
   * The caller of a request, or null when it carries no credentials; throws `session` on bad ones.
   * `skipCsrf` is for resume_session only (api-sections §8b): the UI calls it before it knows the token.
   */
  resolve(request: FastifyRequest, options?: { skipCsrf?: boolean }): Promise<Caller | null>;
}

const revokedKey = (sid: string) => `session:revoked:${sid}`;
const revokedBeforeKey = (username: string) => `session:revoked_before:${userKey(username)}`;
const keptKey = (sid: string) => `session:kept:${sid}`;
const keyRateKey = (id: string, second: number) => `apikey:rate:${id}:${second}`;

function firstString(...values: unknown[]): { value: string; index: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string' && v !== '') return { value: v, index: i };
  }
  return undefined;
}

type Bag = Record<string, unknown>;
const asBag = (value: unknown): Bag | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Bag) : undefined;

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { store, redis } = options;
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  await app.register(jwt, { secret: options.secretKey, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });

  async function isRevoked(claims: SessionClaims): Promise<boolean> {
    const [revoked, before, kept] = await redis.client.mget(revokedKey(claims.sid), revokedBeforeKey(claims.sub), keptKey(claims.sid));
    if (revoked !== null) return true;
    if (before === null) return false;
    // Milliseconds, so a login right after a revokeAll (same second) is not caught by it.
    const issued = typeof claims.ims === 'number' ? claims.ims : claims.iat * 1000;
    const cutoff = Number(before);
    // A session kept by a revokeAll survives that cut-off only (a later revokeAll moves the cut-off past `kept`).
    return issued <= cutoff && !(kept !== null && Number(kept) >= cutoff);
  }

  async function sessionCaller(token: string, via: Caller['via']): Promise<Caller> {
    let claims: SessionClaims;
    try {
      claims = app.jwt.verify<SessionClaims>(token);
    } catch {
      throw new Errors.session('Invalid or expired session');
    }
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') throw new Errors.session('Invalid session');
    if (await isRevoked(claims)) throw new Errors.session('Session has ended; log in again');
    const user = await store.collections.get(USERS, userKey(claims.sub));
    if (!user) throw new Errors.session('Session user no longer exists');
    if (user.active === false) throw new Errors.session('User account is disabled');
    const permissions = await effectivePermissions(store, user);
    const base: Caller = { kind: 'session', username: String(user.username), user: publicUser(user), session: claims, ...permissions };
    return via ? { ...base, via } : base;
  }

  async function keyCaller(plain: string): Promise<Caller> {
    const hash = hashApiKey(plain);
    const { rows } = await store.collections.list(API_KEYS, { where: { key_hash: hash }, limit: 1 });
    const key = rows[0];
    const now = Date.now() / 1000;
    if (!key || !safeEqual(String(key.key_hash), hash) || key.active === false) throw new Errors.session('Invalid API Key');
    if (typeof key.expires === 'number' && key.expires > 0 && key.expires < now) throw new Errors.session('API Key has expired');
    if (typeof key.max_per_sec === 'number' && key.max_per_sec > 0) {
      // One counter per key per wall-clock second (behaviour §1).
      const rateKey = keyRateKey(key.id, Math.floor(now));
      const [[, count]] = (await redis.client.multi().incr(rateKey).expire(rateKey, 2).exec()) as [[Error | null, number]];
      if (count > key.max_per_sec) throw new Errors.rate(`API Key has exceeded rate limit (${key.max_per_sec}/sec)`);
    }
    const permissions = await effectivePermissions(store, key);
    const title = typeof key.title === 'string' && key.title !== '' ? { keyTitle: key.title } : {};
    return { kind: 'key', username: key.id, ...title, ...permissions };
  }

  const sessions: SessionManager = {
    async issue(username) {
      const ms = Date.now();
      const now = Math.floor(ms / 1000);
      const claims: SessionClaims = {
        sub: username,
        sid: randomToken(16),
        csrf: randomToken(16),
        iat: now,
        ims: ms,
        exp: now + options.sessionDays * 86400,
      };
      return { token: app.jwt.sign(claims), claims };
    },
    async revoke(claims) {
      const ttl = Math.max(1, claims.exp - Math.floor(Date.now() / 1000));
      await redis.client.set(revokedKey(claims.sid), '1', 'EX', ttl);
    },
    async revokeAll(username, revokeOptions = {}) {
      const ms = Date.now();
      const ttl = options.sessionDays * 86400;
      const batch = redis.client.multi().set(revokedBeforeKey(username), String(ms), 'EX', ttl);
      const keep = revokeOptions.keep;
      if (keep) batch.set(keptKey(keep.sid), String(ms), 'EX', Math.max(1, keep.exp - Math.floor(ms / 1000)));
      await batch.exec();
    },
    setCookie(request, reply, session) {
      reply.setCookie(SESSION_COOKIE, session.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: request.protocol === 'https',
        expires: new Date(session.claims.exp * 1000),
      });
    },
    clearCookie(reply) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    },
    async resolve(request, resolveOptions = {}) {
      const query = asBag(request.query);
      const body = asBag(request.body);
      const authorization = request.headers.authorization;
      const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
      const session = firstString(
        request.cookies?.[SESSION_COOKIE],
        request.headers['x-session-id'],
        bearer,
        query?.session_id,
        body?.session_id,
      );
      // Credentials never travel further than here (handlers, logs, stored records).
      if (query) delete query.session_id;
      if (body) delete body.session_id;
      if (session) {
        const via = (['cookie', 'header', 'bearer', 'param', 'param'] as const)[session.index];
        const caller = await sessionCaller(session.value, via);
        const writes = request.method !== 'GET' && request.method !== 'HEAD';
        if (via === 'cookie' && writes && !resolveOptions.skipCsrf) {
          const token = firstString(request.headers[CSRF_HEADER], body?.csrf_token, query?.csrf_token);
          if (!token || !safeEqual(token.value, caller.session?.csrf ?? '')) {
            throw new Errors.session('Invalid session: a cookie-authenticated write needs the X-CSRF-Token header');
          }
        }
        return caller;
      }
      const key = firstString(request.headers['x-api-key'], body?.api_key, query?.api_key);
      if (query) delete query.api_key;
      if (body) delete body.api_key;
      return key ? keyCaller(key.value) : null;
    },
  };

  app.decorate('sessions', sessions);
  app.decorateRequest('caller', null);
}

/** Registers @fastify/jwt and @fastify/cookie, and decorates `app.sessions` and `request.caller`. */
export const authPlugin = fp(auth, { name: 'shallot-auth', fastify: '5.x' });

const PRIVILEGE_TITLES: Record<string, string> = { admin: 'Administrator' };

export function privilegeTitle(privilege: string): string {
  return (
    PRIVILEGE_TITLES[privilege] ??
    privilege
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(' ')
  );
}

/** Enforces a descriptor's privilege for a resolved caller; throws the spec's `session` / `access` errors. */
export function authorize(caller: Caller | null, privilege: Privilege): void {
  if (privilege === 'none') return;
  if (!caller) throw new Errors.session('No Session ID or API Key could be found');
  if (privilege === 'any') return;
  if (privilege === 'session') {
    if (caller.kind !== 'session') throw new Errors.session('This call needs a user session; API keys are not accepted here');
    return;
  }
  if (caller.privileges.admin || caller.privileges[privilege]) return;
  const who = caller.kind === 'key' ? `API Key "${caller.keyTitle ?? caller.username}" does not have` : 'You do not have';
  throw new Errors.access(`${who} the "${privilegeTitle(privilege)}" privilege required to perform this action.`);
}
