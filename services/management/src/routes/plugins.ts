/** Plugins (api-sections §1): not scoped; params validated on save; locked params are for administrators only. */
import { Errors, type Implementation, RecordError, type ServiceContext, implement, missingRecord } from '@shallot/core';
import { type PluginParam, pluginsApi, testMonitorPlugin, testSchedulerPlugin } from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import { crudRoutes } from '../crud/index.js';
import { enforceLockedParams, validateParams } from '../validation/plugin-params.js';
import { refuse, wrapHandler } from './section-helpers.js';

const asParams = (value: unknown): PluginParam[] => (Array.isArray(value) ? (value as PluginParam[]) : []);

/** Plugin tests run on a server (monitor) or in a job runner (scheduler); neither can run plugins yet. */
const NO_RUNNER = 'No server is available to run the plugin test on yet';

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Errors.api(`Unknown timezone: ${timezone}`);
  }
}

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

  /** The plugin to test: it must exist and be of the tested type. */
  async function loadOfType(id: string, type: 'monitor' | 'scheduler'): Promise<CollectionRecord> {
    const plugin = await ctx.store.collections.get(pluginsApi.options.collection, id);
    if (!plugin) throw missingRecord('plugin', id);
    if (plugin.type !== type) throw new Errors.api(`Plugin "${id}" is not a ${type} plugin (type: ${String(plugin.type)})`);
    return plugin;
  }

  routes.push(
    implement(testMonitorPlugin, async ({ params }) => {
      await loadOfType(params.id, 'monitor');
      throw new RecordError('server', `${NO_RUNNER} (server "${params.server}" is not online)`, 409);
    }),
    implement(testSchedulerPlugin, async ({ params }) => {
      await loadOfType(params.id, 'scheduler');
      if (params.timezone !== undefined) checkTimezone(params.timezone);
      throw new RecordError('server', NO_RUNNER, 409);
    }),
  );

  // update_plugin answers an unknown id with `api` "Plugin not found" (api-sections §1), not `notfound`.
  return wrapHandler(routes, pluginsApi.update, (original) => async (call) => {
    const { id } = call.params as { id: string };
    if (!(await ctx.store.collections.get(pluginsApi.options.collection, id))) throw new Errors.api(`Plugin not found: ${id}`);
    return original(call);
  });
}
