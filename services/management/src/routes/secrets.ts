/**
 * Secrets (api-sections §4): plaintext metadata in `secrets`, the variables AES-256-GCM-sealed in `secret_values`
 * (never on the metadata, never in an answer, an activity row or a log). Only `decrypt_secret` opens them.
 */
import {
  type Caller,
  type Implementation,
  RecordError,
  type SecretField,
  type ServiceContext,
  generateId,
  implement,
  missingRecord,
  openSecret,
  sealSecret,
} from '@shallot/core';
import { decryptSecret, secretsApi } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { recordActivity } from '../activity.js';
import { crudRoutes } from '../crud/index.js';
import { isPrototypeName } from '../validation/names.js';
import { mutateSide, wrapHandler } from './section-helpers.js';

const SECRETS = secretsApi.options.collection;
/** The sealed variables, one record per secret, same id. */
export const SECRET_VALUES = 'secret_values';

type Fields = Record<string, unknown>;

/** Variable names, in order; a prototype name or a duplicate is refused with code `secret`. */
function namesOf(fields: readonly SecretField[]): string[] {
  const names: string[] = [];
  for (const { name } of fields) {
    if (isPrototypeName(name)) throw new RecordError('secret', `Illegal secret variable name: ${name}`);
    if (names.includes(name)) throw new RecordError('secret', `Secret variable name used twice: ${name}`);
    names.push(name);
  }
  return names;
}

/** Metadata only, whatever a record may carry. */
function metadata(record: CollectionRecord): Fields {
  const { fields: _fields, sealed: _sealed, ...rest } = record;
  return rest;
}

/** The decrypted variables of a secret; `secret` errors for a missing record or one that does not open. */
export async function secretValues(ctx: ServiceContext, id: string): Promise<SecretField[]> {
  const stored = await ctx.store.collections.get(SECRET_VALUES, id);
  if (!stored) return [];
  try {
    return await openSecret(ctx.secretKey, id, stored.sealed);
  } catch {
    throw new RecordError('secret', `Secret "${id}" could not be decrypted`, 500);
  }
}

async function seal(ctx: ServiceContext, id: string, fields: readonly SecretField[]) {
  return { sealed: await sealSecret(ctx.secretKey, id, fields) };
}

export function secretRoutes(ctx: ServiceContext): Implementation[] {
  let routes = crudRoutes(secretsApi, ctx, {
    defaults: { enabled: true, icon: '', notes: '', events: [], categories: [], plugins: [], web_hooks: [], names: [] },
    redact: metadata,
    async afterChange(action, record) {
      if (action === 'delete') await ctx.store.collections.delete(SECRET_VALUES, String(record.id));
    },
  });

  // create: the metadata first (a duplicate id must not touch the existing secret's values), then the sealed values;
  // if sealing or storing them fails, the metadata is removed again.
  routes = wrapHandler(routes, secretsApi.create, (original) => async (call) => {
    const { fields = [], names: _ignored, ...rest } = call.params as Fields & { fields?: SecretField[] };
    const names = namesOf(fields);
    const id = typeof rest.id === 'string' && rest.id ? rest.id : generateId(secretsApi.options.idPrefix);
    const values = await seal(ctx, id, fields);
    const answer = await original({ ...call, params: { ...rest, id, names } });
    try {
      await mutateSide(ctx.store, SECRET_VALUES, id, () => values);
    } catch (error) {
      await ctx.store.collections.delete(SECRETS, id);
      throw error;
    }
    return answer;
  });

  // update: without `fields` the values stay as they are; with them every variable is replaced. The new values are
  // stored first and put back if the metadata update is refused.
  routes = wrapHandler(routes, secretsApi.update, (original) => async (call) => {
    const { fields, names: _ignored, ...rest } = call.params as Fields & { id: string; fields?: SecretField[] };
    if (!(await ctx.store.collections.get(SECRETS, rest.id))) throw missingRecord('secret', rest.id);
    if (fields === undefined) return original({ ...call, params: rest });
    const names = namesOf(fields);
    const values = await seal(ctx, rest.id, fields);
    const previous = await ctx.store.collections.get(SECRET_VALUES, rest.id);
    await mutateSide(ctx.store, SECRET_VALUES, rest.id, () => values);
    try {
      return await original({ ...call, params: { ...rest, names } });
    } catch (error) {
      if (previous) await mutateSide(ctx.store, SECRET_VALUES, rest.id, () => ({ sealed: previous.sealed }));
      else await ctx.store.collections.delete(SECRET_VALUES, rest.id);
      throw error;
    }
  });

  routes.push(
    implement(decryptSecret, async ({ params, caller, request }) => {
      const record = await ctx.store.collections.get(SECRETS, params.id);
      if (!record) throw missingRecord('secret', params.id);
      const fields = await secretValues(ctx, params.id);
      // Who opened which secret is logged; what it holds never is.
      await recordActivity(ctx, request, caller as Caller, 'secret_access', {
        description: typeof record.title === 'string' ? record.title : params.id,
        keywords: [params.id],
        secret: metadata(record),
      });
      return { code: 0 as const, fields };
    }),
  );
  return routes;
}

/** Secrets granted to a web hook, decrypted, for sending it (its values are redacted from reports). */
export async function secretsForWebHook(ctx: ServiceContext, webHookId: string): Promise<SecretField[]> {
  const out: SecretField[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await ctx.store.collections.list(SECRETS, { offset, limit: 1000 });
    for (const record of page.rows) {
      if (record.enabled === false || !Array.isArray(record.web_hooks) || !record.web_hooks.includes(webHookId)) continue;
      out.push(...(await secretValues(ctx, record.id)));
    }
    if (page.rows.length < 1000) return out;
  }
}
