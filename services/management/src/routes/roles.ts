/**
 * Roles: privileges stored as `{priv: true}` only. Effective permissions are computed per request from the stored
 * roles, so a change applies to every caller at once (api-sections §2).
 */
import type { ServiceContext } from '@shallot/core';
import { rolesApi } from '@shallot/schemas';
import { crudRoutes, privilegeGrants } from '../crud/index.js';

export function roleRoutes(ctx: ServiceContext) {
  return crudRoutes(rolesApi, ctx, {
    defaults: { enabled: true, privileges: {}, categories: [], groups: [], icon: '', notes: '' },
    validate(record) {
      return { ...record, privileges: privilegeGrants(record.privileges) };
    },
  });
}
