/** Test wiring for management: the real service on a real store and Redis, plus principals made directly in the store. */
import { type ServiceContext, USERS, createApp, hashPassword, prepareApp, userKey } from '@shallot/core';
import { storeApiKey, testContext } from '@shallot/core/testing';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { MailMessage, Mailer } from '../src/mail.js';
import { managementPlugin } from '../src/plugin.js';

export const ADMIN_PASSWORD = 'admin-test-password';

type Tap = Parameters<typeof testContext>[0];

/** A parsed JSON answer; tests read it loosely. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape at run time
export type Answer = Record<string, any>;

export interface Harness {
  app: FastifyInstance;
  ctx: ServiceContext;
  /** Injects and parses JSON. */
  call(options: InjectOptions): Promise<{ status: number; body: Answer }>;
  /** POST /api/app/NAME/v1 with a session header. */
  api(name: string, payload: Record<string, unknown>, auth?: Auth): Promise<{ status: number; body: Answer }>;
  login(username: string, password: string): Promise<string>;
  admin: Auth;
}

export type Auth = { session: string } | { key: string } | undefined;

export function authHeaders(auth: Auth): Record<string, string> {
  if (!auth) return {};
  return 'session' in auth ? { 'x-session-id': auth.session } : { 'x-api-key': auth.key };
}

export interface HarnessOptions {
  mailer?: Mailer;
}

/** A mailer that keeps what it would send. */
export function capturingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
    },
  };
}

export async function harness(t: Tap, overrides: Parameters<typeof testContext>[1] = {}, options: HarnessOptions = {}): Promise<Harness> {
  const ctx = await testContext(t, { adminPassword: ADMIN_PASSWORD, ...overrides });
  const app = createApp(ctx.config);
  await prepareApp(app, ctx, 'management');
  await app.register(managementPlugin, { ctx, ...(options.mailer ? { mailer: options.mailer } : {}) });
  await app.ready();
  t.teardown(() => app.close());
  const call = async (options: InjectOptions) => {
    const res = await app.inject(options);
    return { status: res.statusCode, body: res.json() as Answer };
  };
  const login = async (username: string, password: string) => {
    const { body } = await call({ method: 'POST', url: '/api/user/login', payload: { username, password } });
    if (body.code !== 0) throw new Error(`login ${username} failed: ${JSON.stringify(body)}`);
    return String(body.session_id);
  };
  const admin: Auth = { session: await login('admin', ADMIN_PASSWORD) };
  const api = (name: string, payload: Record<string, unknown>, auth: Auth = admin) =>
    call({ method: 'POST', url: `/api/app/${name}/v1`, headers: authHeaders(auth), payload });
  return { app, ctx, call, api, login, admin };
}

/** A user stored directly (not through the API under test). */
export async function makeUser(
  ctx: ServiceContext,
  username: string,
  fields: { privileges?: Record<string, boolean>; roles?: string[]; categories?: string[]; groups?: string[]; active?: boolean } = {},
  password = 'user-password-1',
): Promise<void> {
  await ctx.store.collections.create(USERS, {
    id: userKey(username),
    username,
    full_name: username,
    email: `${username}@example.com`,
    verified_email: `${username}@example.com`,
    active: fields.active ?? true,
    password: await hashPassword(password),
    privileges: fields.privileges ?? {},
    roles: fields.roles ?? [],
    categories: fields.categories ?? [],
    groups: fields.groups ?? [],
  });
}

/** An API key stored directly; answers the plain key. */
export async function makeKey(
  ctx: ServiceContext,
  fields: {
    privileges?: Record<string, boolean>;
    roles?: string[];
    categories?: string[];
    groups?: string[];
    active?: boolean;
    expires?: number;
  } = {},
): Promise<{ id: string; key: string }> {
  return storeApiKey(ctx.store, { ...fields, title: 'Test key' });
}
