/** Tags: not scoped; ids starting with `_` are reserved for system tags. */
import { Errors, type ServiceContext } from '@shallot/core';
import { SYSTEM_TAG_PREFIX, tagsApi } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';

export function tagRoutes(ctx: ServiceContext) {
  return crudRoutes(tagsApi, ctx, {
    defaults: { icon: '', notes: '' },
    validate(record, { update }) {
      if (!update && String(record.id).startsWith(SYSTEM_TAG_PREFIX)) {
        throw new Errors.api(`Tag ids starting with "${SYSTEM_TAG_PREFIX}" are reserved for system tags.`);
      }
      return record;
    },
  });
}
