/** Server groups (seed 001 §Groups): ordered, scoped by id; hostname_match must compile; alert actions validated. */
import { type ServiceContext, compileRegex } from '@shallot/core';
import { groupsApi, multiUpdateGroups } from '@shallot/schemas';
import { byGroupId, crudRoutes } from '../crud/index.js';
import { validateActions } from '../validation/actions.js';
import { actionLookups } from './alerts.js';
import { aliasHandler, refuse } from './section-helpers.js';

export function groupRoutes(ctx: ServiceContext) {
  const routes = crudRoutes(groupsApi, ctx, {
    defaults: { icon: '', notes: '', alert_actions: [], max_jobs_per_server: 0 },
    access: byGroupId,
    multiUpdateNeedsUnrestricted: ['groups'],
    async validate(record) {
      try {
        compileRegex(String(record.hostname_match ?? ''));
        await validateActions(Array.isArray(record.alert_actions) ? record.alert_actions : [], {
          context: 'alert',
          lookups: actionLookups(ctx),
        });
      } catch (error) {
        refuse('api', error);
      }
      return record;
    },
  });
  return groupsApi.multiUpdate ? aliasHandler(routes, groupsApi.multiUpdate, multiUpdateGroups) : routes;
}
