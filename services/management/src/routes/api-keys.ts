/**
 * API keys (api-sections §10): administrators only. The server generates the key (32 random bytes, url-safe base64),
 * stores only its SHA-256 (`key_hash`, what auth looks keys up by) and a mask, and answers the plain key once. Records
 * show the hash as `key` (64 hex characters) and `mask` (first 4 characters, 8 `*`, last 4), as xyOps does.
 */
import { randomBytes } from 'node:crypto';
import { type Implementation, type ServiceContext, hashApiKey } from '@shallot/core';
import { apiKeysApi } from '@shallot/schemas';
import { crudRoutes, privilegeGrants } from '../crud/index.js';

const mask = (plain: string): string => `${plain.slice(0, 4)}********${plain.slice(-4)}`;

export function apiKeyRoutes(ctx: ServiceContext): Implementation[] {
  return crudRoutes(apiKeysApi, ctx, {
    defaults: { active: true, description: '', privileges: {}, roles: [], categories: [], groups: [], expires: 0, max_per_sec: 0 },
    validate(record, hook) {
      // A client-supplied key is ignored: keys are always generated here.
      const { key: _ignored, ...fields } = record;
      const normalised = {
        ...fields,
        privileges: privilegeGrants(fields.privileges),
        active: fields.active === true || fields.active === 1,
      };
      if (hook.update) return { ...normalised, key_hash: hook.update.stored.key_hash, mask: hook.update.stored.mask };
      const plain = randomBytes(32).toString('base64url');
      hook.answer.plain_key = plain;
      return { ...normalised, key_hash: hashApiKey(plain), mask: mask(plain) };
    },
    // Activity rows never carry the hash; answers show it as `key` (as xyOps does: the plain key cannot be recovered
    // from its SHA-256).
    redact: ({ key_hash, ...shown }, reader) => (reader && typeof key_hash === 'string' ? { ...shown, key: key_hash } : shown),
  });
}
