/** get/update_global_state (and the seed's get/update_master_state names): the runtime state in Redis. */
import { Errors, type ServiceContext, implement, isNaughtyStateKey, readGlobalState, writeGlobalState } from '@shallot/core';
import { getGlobalState, getMasterState, updateGlobalState, updateMasterState } from '@shallot/schemas';
import { recordActivity } from '../activity.js';

export function globalStateRoutes(ctx: ServiceContext) {
  const read = async () => ({ code: 0 as const, state: await readGlobalState(ctx.redis.client) });
  const update = implement(updateGlobalState, async ({ params, caller, request }) => {
    const entries = Object.entries(params);
    if (entries.length === 0) throw new Errors.api('Give at least one dot-path key to set, e.g. {"scheduler.enabled": false}.');
    for (const [key] of entries) {
      if (isNaughtyStateKey(key)) throw new Errors.api(`Naughty key detected: ${JSON.stringify(key)}`);
    }
    if ('scheduler.enabled' in params && typeof params['scheduler.enabled'] !== 'boolean') {
      throw new Errors.api('scheduler.enabled must be true or false.');
    }
    await writeGlobalState(ctx.redis.client, params);
    for (const [key, value] of entries) {
      await recordActivity(ctx, request, caller, 'state_update', { description: key, key, value, keywords: [key] });
    }
    return { code: 0 as const };
  });
  return [implement(getGlobalState, read), implement(getMasterState, read), update, { ...update, descriptor: updateMasterState }];
}
