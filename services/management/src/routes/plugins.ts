/** Plugins (api-sections §1): not scoped; params validated on save; locked params are for administrators only. */
import { Errors, type Implementation, type ServiceContext } from '@shallot/core';
import { type PluginParam, pluginsApi } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';
import { enforceLockedParams, validateParams } from '../validation/plugin-params.js';
import { refuse, wrapHandler } from './section-helpers.js';

const asParams = (value: unknown): PluginParam[] => (Array.isArray(value) ? (value as PluginParam[]) : []);

export function pluginRoutes(ctx: ServiceContext): Implementation[] {
  const routes = crudRoutes(pluginsApi, ctx, {
    defaults: { enabled: true, params: [], icon: '', notes: '' },
    validate(record, { caller, update }) {
      const out = { ...record };
      if (out.marketplace) {
        // Marketplace plugins never take a run-as user from the request (api-sections §1).
        out.uid = update?.stored.uid;
        out.gid = update?.stored.gid;
      }
      try {
        let params = asParams(out.params);
        if (!caller.privileges.admin) params = enforceLockedParams(params, asParams(update?.stored.params));
        validateParams(params);
        out.params = params;
      } catch (error) {
        refuse('api', error);
      }
      return out;
    },
  });
  // update_plugin answers an unknown id with `api` "Plugin not found" (api-sections §1), not `notfound`.
  return wrapHandler(routes, pluginsApi.update, (original) => async (call) => {
    const { id } = call.params as { id: string };
    if (!(await ctx.store.collections.get(pluginsApi.options.collection, id))) throw new Errors.api(`Plugin not found: ${id}`);
    return original(call);
  });
}
