/**
 * Alert definitions (seed 001 §Alerts): readable by anyone; expression and message must compile; actions are
 * alert actions. Group-limited callers may not manage them (behaviour §4).
 */
import { type Implementation, RecordError, type ServiceContext, compileExpression, compileTemplate, implement } from '@shallot/core';
import { alertsApi, testAlert } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';
import { latestServerSample } from '../monitoring-data.js';
import { type ActionLookups, validateActions } from '../validation/actions.js';
import { refuse, refuseGroupLimited } from './section-helpers.js';

const WHAT = 'alerts';

/** Existence checks of the records actions point at. */
export function actionLookups(ctx: ServiceContext): ActionLookups {
  return {
    event: async (id) => (await ctx.store.collections.get('events', id)) !== undefined,
    plugin: async (id) => {
      const plugin = await ctx.store.collections.get('plugins', id);
      return plugin ? { type: plugin.type } : undefined;
    },
  };
}

function compileAlert(expression: string, message: string) {
  try {
    return { expression: compileExpression(expression), message: compileTemplate(message) };
  } catch (error) {
    return refuse('api', error);
  }
}

export function alertRoutes(ctx: ServiceContext): Implementation[] {
  const routes = crudRoutes(alertsApi, ctx, {
    defaults: {
      enabled: true,
      groups: [],
      actions: [],
      samples: 1,
      exclusive_actions: false,
      limit_jobs: false,
      abort_jobs: false,
      icon: '',
      notes: '',
    },
    async validate(record, { caller }) {
      refuseGroupLimited(caller, WHAT);
      compileAlert(String(record.expression ?? ''), String(record.message ?? ''));
      try {
        await validateActions(Array.isArray(record.actions) ? record.actions : [], { context: 'alert', lookups: actionLookups(ctx) });
      } catch (error) {
        refuse('api', error);
      }
      return record;
    },
    beforeDelete(_record, { caller }) {
      refuseGroupLimited(caller, WHAT);
    },
  });
  routes.push(
    implement(testAlert, async ({ params, caller }) => {
      if (caller) refuseGroupLimited(caller, WHAT);
      const compiled = compileAlert(params.expression, params.message);
      const sample = await latestServerSample(ctx, params.server);
      if (!sample) throw new RecordError('server', `No monitoring data for server "${params.server}" yet`, 404);
      let result = false;
      try {
        result = !!compiled.expression.evaluate(sample);
      } catch {
        // A failing alert expression counts as false (behaviour §6.2).
      }
      return { code: 0 as const, result, message: compiled.message.render(sample, { fallback: '' }) };
    }),
  );
  return routes;
}
