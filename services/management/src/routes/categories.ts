/**
 * Categories: ordered, scoped by id; a category still used by an event cannot be deleted. Their limits and actions
 * are appended to every job of the category, so they are validated as an event's are (data-structures §3, §4).
 */
import { Errors, type ServiceContext } from '@shallot/core';
import { categoriesApi } from '@shallot/schemas';
import { byCategoryId, crudRoutes } from '../crud/index.js';
import { validateActions } from '../validation/actions.js';
import { validateLimits } from '../validation/limits.js';
import { actionLookups } from './alerts.js';
import { refuse } from './section-helpers.js';

/** The events collection, read only to guard deletes. */
const EVENTS = 'events';

export function categoryRoutes(ctx: ServiceContext) {
  return crudRoutes(categoriesApi, ctx, {
    defaults: { enabled: true, color: 'plain', icon: '', notes: '', limits: [], actions: [] },
    access: byCategoryId,
    multiUpdateNeedsUnrestricted: ['categories'],
    async validate(record) {
      try {
        validateLimits(record.limits ?? []);
        if (!Array.isArray(record.actions ?? [])) throw new Error('actions must be an array');
        await validateActions((record.actions as unknown[] | undefined) ?? [], { context: 'job', lookups: actionLookups(ctx) });
      } catch (error) {
        refuse('api', error);
      }
      return record;
    },
    async beforeDelete(record) {
      const { total } = await ctx.store.collections.list(EVENTS, { where: { category: record.id }, limit: 1 });
      if (total > 0) {
        throw new Errors.api(`Category "${record.id}" is still used by ${total} event${total === 1 ? '' : 's'}: move them first.`);
      }
    },
  });
}
