/** Server groups (seed 001 §Groups): ordered, scoped by id; hostname_match must compile; alert actions validated. */
import {
  type Caller,
  Errors,
  type Implementation,
  RecordError,
  type ServiceContext,
  compileRegex,
  implement,
  missingRecord,
} from '@shallot/core';
import { createGroupSnapshot, groupsApi, multiUpdateGroups, watchGroup } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { recordActivity } from '../activity.js';
import { byGroupId, crudRoutes } from '../crud/index.js';
import { validateActions } from '../validation/actions.js';
import { setGroupWatch } from '../watches.js';
import { actionLookups } from './alerts.js';
import { aliasHandler, refuse } from './section-helpers.js';

export function groupRoutes(ctx: ServiceContext): Implementation[] {
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

  /** The group, if it exists and the caller's group scope covers it (same answers as get_group). */
  async function loadScoped(caller: Caller | null, id: string): Promise<CollectionRecord> {
    const group = await ctx.store.collections.get(groupsApi.options.collection, id);
    if (!group) throw missingRecord('group', id);
    if (caller && !byGroupId(caller, group)) throw new Errors.access(`You do not have access to group "${id}".`);
    return group;
  }

  routes.push(
    implement(watchGroup, async ({ params, caller, request }) => {
      const group = await loadScoped(caller, params.id);
      const end = await setGroupWatch(ctx, params.id, params.duration);
      await recordActivity(ctx, request, caller, 'group_watch', {
        description: String(group.title ?? params.id),
        keywords: [params.id],
        group: { id: params.id, title: group.title },
        duration: params.duration,
        end,
      });
      return { code: 0 as const };
    }),
    implement(createGroupSnapshot, async ({ params, caller }) => {
      await loadScoped(caller, params.group);
      // Server metric ingestion stores no samples yet (see monitoring-data.ts), so there is nothing to snapshot.
      throw new RecordError('server', `No monitoring data for group ${params.group} yet: snapshots need servers reporting metrics`, 404);
    }),
  );
  return groupsApi.multiUpdate ? aliasHandler(routes, groupsApi.multiUpdate, multiUpdateGroups) : routes;
}
