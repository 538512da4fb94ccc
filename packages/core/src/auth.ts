/**
 * Resolves the caller of every request (spec/behaviour.md §1): a session (cookie, X-Session-ID, bearer token or
 * `session_id` param) wins over an API key (X-API-Key, `api_key` in the body, then the query). A bad session never
 * falls through to a key. Sessions are opaque random ids stored by their SHA-256 (store + Redis copy), ended by deletion;
 * keys are looked up by their SHA-256. Resolved callers are cached per process and dropped on any change notice.
 */
import { createHash } from 'node:crypto';
import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Privilege } from '@shallot/schemas';
import type { Store } from '@shallot/store';
import { Errors } from './errors.js';
import type { ChangeFeed } from './changes.js';
import {
  API_KEYS,
  type Caller,
  ROLES,
  type SessionClaims,
  USERS,
  effectivePermissions,
  hashApiKey,
  publicUser,
  userKey,
} from './identity.js';
import { randomToken } from './ids.js';
import { safeEqual } from './passwords.js';
import type { RedisWiring } from './redis.js';

export const SESSION_COOKIE = 'session_id';
const CSRF_HEADER = 'x-csrf-token';
/** Stored sessions: id = SHA-256 of the session id, so a copy of the store or of Redis holds no credential. */
export const SESSIONS = 'sessions';
/** A session id: 32 random bytes as 64 hex characters (letters and digits only, as xyOps clients expect). */
const SESSION_ID = /^[0-9a-f]{64}$/;
/** Safety net for the per-process caller cache: change notices are the real invalidation (see changes.ts). */
const CALLER_CACHE_MAX_AGE_MS = 10_000;
const CALLER_CACHE_MAX_ENTRIES = 10_000;
/** What the caller cache depends on. */
const CALLER_SOURCES = [USERS, ROLES, API_KEYS, SESSIONS] as const;

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
  changes: ChangeFeed;
  /** Signs stateless tokens (@fastify/jwt: download links, job tokens); sessions are not signed tokens. */
  secretKey: string;
  sessionDays: number;
}

export interface IssuedSession {
  /** The session id handed to the client: a credential, never stored or logged as such. */
  token: string;
  claims: SessionClaims;
}

export interface SessionManager {
  issue(username: string): Promise<IssuedSession>;
  /** Ends one session (deletes it). */
  revoke(claims: SessionClaims): Promise<void>;
  /** Ends every session of a user, except `keep` (the caller's own, for logout_all). */
  revokeAll(username: string, options?: { keep?: SessionClaims }): Promise<void>;
  /** Moves a live session's expiry to now + the session lifetime (resume_session); answers the new claims. */
  refresh(claims: SessionClaims): Promise<SessionClaims>;
  /** The session id a request authenticated with (after `resolve`), for answers that repeat it. */
  presented(request: FastifyRequest): string | undefined;
  /** Sets the session cookie on a reply (HttpOnly, SameSite=Lax, Secure over HTTPS). */
  setCookie(request: FastifyRequest, reply: FastifyReply, session: IssuedSession): void;
  clearCookie(reply: FastifyReply): void;
  /**
   * The caller of a request, or null when it carries no credentials; throws `session` on bad ones.
   * `skipCsrf` is for resume_session only (api-sections §8b): the UI calls it before it knows the token.
   */
  resolve(request: FastifyRequest, options?: { skipCsrf?: boolean }): Promise<Caller | null>;
}

const sessionCacheKey = (sid: string) => `session:${sid}`;
const keyRateKey = (id: string, second: number) => `apikey:rate:${id}:${second}`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

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

interface CachedCaller {
  caller: Caller;
  at: number;
  /** API keys: their own expiry (epoch seconds), 0 for none. */
  expires: number;
}

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { store, redis, changes } = options;
  const lifetime = Math.max(1, Math.round(options.sessionDays * 86400));
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  await app.register(jwt, { secret: options.secretKey, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });

  // Credential hash → resolved caller. Any change to a user, role, key or session empties it (rare next to reads).
  const callers = new Map<string, CachedCaller>();
  const unsubscribe = changes.subscribe((collection) => {
    if (collection === '*' || (CALLER_SOURCES as readonly string[]).includes(collection)) callers.clear();
  });
  app.addHook('onClose', async () => unsubscribe());
  const sourcesVersion = () => CALLER_SOURCES.reduce((sum, c) => sum + changes.version(c), 0);
  const presentedTokens = new WeakMap<FastifyRequest, string>();

  function cached(hash: string): Caller | undefined {
    const entry = callers.get(hash);
    if (!entry) return undefined;
    const now = Date.now();
    const expired = entry.expires > 0 && entry.expires * 1000 < now;
    if (!changes.live || expired || now - entry.at > CALLER_CACHE_MAX_AGE_MS) {
      callers.delete(hash);
      return undefined;
    }
    return entry.caller;
  }

  function remember(hash: string, version: number, caller: Caller, expires: number): void {
    if (!changes.live || sourcesVersion() !== version) return;
    if (callers.size >= CALLER_CACHE_MAX_ENTRIES) callers.clear();
    callers.set(hash, { caller, at: Date.now(), expires });
  }

  /** A stored session by its hash: Redis first, then the store (refilling Redis); undefined when gone or expired. */
  async function loadSession(sid: string): Promise<SessionClaims | undefined> {
    const now = Math.floor(Date.now() / 1000);
    const hit = await redis.client.get(sessionCacheKey(sid));
    if (hit !== null) {
      const claims = JSON.parse(hit) as SessionClaims;
      return claims.exp > now ? claims : undefined;
    }
    const record = await store.collections.get(SESSIONS, sid);
    if (!record || typeof record.expires !== 'number') return undefined;
    if (record.expires <= now) {
      await store.collections.delete(SESSIONS, sid);
      return undefined;
    }
    const claims: SessionClaims = {
      sub: String(record.username),
      sid,
      csrf: String(record.csrf),
      iat: Number(record.issued),
      exp: record.expires,
    };
    await redis.client.set(sessionCacheKey(sid), JSON.stringify(claims), 'EX', Math.max(1, claims.exp - now));
    return claims;
  }

  async function sessionCaller(token: string, via: Caller['via']): Promise<Caller> {
    if (!SESSION_ID.test(token)) throw new Errors.session('Invalid or expired session');
    const sid = sha256(token);
    const hit = cached(sid);
    if (hit) return via ? { ...hit, via } : hit;
    const version = sourcesVersion();
    const claims = await loadSession(sid);
    if (!claims) throw new Errors.session('Invalid or expired session');
    const user = await store.collections.get(USERS, userKey(claims.sub));
    if (!user) throw new Errors.session('Session user no longer exists');
    if (user.active === false) throw new Errors.session('User account is disabled');
    const permissions = await effectivePermissions(store, user);
    const base: Caller = { kind: 'session', username: String(user.username), user: publicUser(user), session: claims, ...permissions };
    remember(sid, version, base, claims.exp);
    return via ? { ...base, via } : base;
  }

  async function keyCaller(plain: string): Promise<Caller> {
    const hash = hashApiKey(plain);
    let caller = cached(hash);
    if (!caller) {
      const version = sourcesVersion();
      const { rows } = await store.collections.list(API_KEYS, { where: { key_hash: hash }, limit: 1 });
      const key = rows[0];
      const now = Date.now() / 1000;
      if (!key || !safeEqual(String(key.key_hash), hash) || key.active === false) throw new Errors.session('Invalid API Key');
      if (typeof key.expires === 'number' && key.expires > 0 && key.expires < now) throw new Errors.session('API Key has expired');
      const permissions = await effectivePermissions(store, key);
      const title = typeof key.title === 'string' && key.title !== '' ? { keyTitle: key.title } : {};
      const limit = typeof key.max_per_sec === 'number' && key.max_per_sec > 0 ? { maxPerSec: key.max_per_sec } : {};
      caller = { kind: 'key', username: key.id, ...title, ...limit, ...permissions };
      remember(hash, version, caller, typeof key.expires === 'number' ? key.expires : 0);
    }
    const limit = caller.maxPerSec;
    if (limit !== undefined) {
      // One counter per key per wall-clock second (behaviour §1).
      const rateKey = keyRateKey(caller.username, Math.floor(Date.now() / 1000));
      const [[, count]] = (await redis.client.multi().incr(rateKey).expire(rateKey, 2).exec()) as [[Error | null, number]];
      if (count > limit) throw new Errors.rate(`API Key has exceeded rate limit (${limit}/sec)`);
    }
    return caller;
  }

  /** Deletes sessions (store, then the Redis copy) and tells every process. */
  async function endSessions(sids: string[]): Promise<void> {
    if (sids.length === 0) return;
    for (const sid of sids) await store.collections.delete(SESSIONS, sid);
    await redis.client.del(...sids.map(sessionCacheKey));
    await changes.publish(SESSIONS, sids.length === 1 ? (sids[0] as string) : '*');
  }

  const sessions: SessionManager = {
    async issue(username) {
      const now = Math.floor(Date.now() / 1000);
      const token = randomToken(32);
      const claims: SessionClaims = { sub: username, sid: sha256(token), csrf: randomToken(16), iat: now, exp: now + lifetime };
      await store.collections.create(SESSIONS, {
        id: claims.sid,
        username,
        user: userKey(username),
        csrf: claims.csrf,
        issued: claims.iat,
        expires: claims.exp,
      });
      await redis.client.set(sessionCacheKey(claims.sid), JSON.stringify(claims), 'EX', lifetime);
      // Expired sessions of this user go when they log in again (a refused one goes at once): the store stays small.
      const { rows } = await store.collections.list(SESSIONS, { where: { user: userKey(username) }, limit: 500 });
      for (const row of rows) if (typeof row.expires === 'number' && row.expires <= now) await store.collections.delete(SESSIONS, row.id);
      return { token, claims };
    },
    async revoke(claims) {
      await endSessions([claims.sid]);
    },
    async revokeAll(username, revokeOptions = {}) {
      const keep = revokeOptions.keep?.sid;
      const doomed: string[] = [];
      for (let offset = 0; ; offset += 500) {
        const { rows } = await store.collections.list(SESSIONS, { where: { user: userKey(username) }, limit: 500, offset });
        for (const row of rows) if (row.id !== keep) doomed.push(row.id);
        if (rows.length < 500) break;
      }
      await endSessions(doomed);
    },
    async refresh(claims) {
      const now = Math.floor(Date.now() / 1000);
      const renewed: SessionClaims = { ...claims, exp: now + lifetime };
      await store.collections.update(SESSIONS, claims.sid, { expires: renewed.exp });
      await redis.client.set(sessionCacheKey(claims.sid), JSON.stringify(renewed), 'EX', lifetime);
      await changes.publish(SESSIONS, claims.sid);
      return renewed;
    },
    presented(request) {
      return presentedTokens.get(request);
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
        presentedTokens.set(request, session.value);
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
  if (privilege === 'none' || privilege === 'optional') return;
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
