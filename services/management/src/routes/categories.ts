/** Categories: ordered, scoped by id; a category still used by an event cannot be deleted. */
import { Errors, type ServiceContext } from '@shallot/core';
import { categoriesApi } from '@shallot/schemas';
import { byCategoryId, crudRoutes } from '../crud/index.js';

/** The events collection, read only to guard deletes. */
const EVENTS = 'events';

export function categoryRoutes(ctx: ServiceContext) {
  return crudRoutes(categoriesApi, ctx, {
    defaults: { enabled: true, color: 'plain', icon: '', notes: '', limits: [], actions: [] },
    access: byCategoryId,
    multiUpdateNeedsUnrestricted: ['categories'],
    async beforeDelete(record) {
      const { total } = await ctx.store.collections.list(EVENTS, { where: { category: record.id }, limit: 1 });
      if (total > 0) {
        throw new Errors.api(`Category "${record.id}" is still used by ${total} event${total === 1 ? '' : 's'}: move them first.`);
      }
    },
  });
}
