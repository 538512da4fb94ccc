/**
 * Monitors (seed 001 §Monitors): ordered, readable by anyone; source must compile and data_match must be a regex.
 * Group-limited callers may not manage them (behaviour §4).
 */
import { type Implementation, RecordError, type ServiceContext, compileExpression, compileRegex, implement } from '@shallot/core';
import { monitorsApi, multiUpdateMonitors, testMonitor } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';
import { evaluateMonitor, latestServerSample } from '../monitoring-data.js';
import { aliasHandler, refuse, refuseGroupLimited, wrapHandler } from './section-helpers.js';

const WHAT = 'monitors';

function checkMonitor(record: Record<string, unknown>): void {
  try {
    compileExpression(String(record.source ?? ''));
    if (typeof record.data_match === 'string' && record.data_match !== '') compileRegex(record.data_match);
  } catch (error) {
    refuse('api', error);
  }
}

export function monitorRoutes(ctx: ServiceContext): Implementation[] {
  let routes = crudRoutes(monitorsApi, ctx, {
    defaults: { display: true, groups: [], suffix: '', icon: '', notes: '' },
    validate(record, { caller }) {
      refuseGroupLimited(caller, WHAT);
      checkMonitor(record);
      return record;
    },
    beforeDelete(_record, { caller }) {
      refuseGroupLimited(caller, WHAT);
    },
  });
  if (monitorsApi.multiUpdate) {
    routes = wrapHandler(routes, monitorsApi.multiUpdate, (original) => async (call) => {
      if (call.caller) refuseGroupLimited(call.caller, WHAT);
      return original(call);
    });
    routes = aliasHandler(routes, monitorsApi.multiUpdate, multiUpdateMonitors);
  }
  routes.push(
    implement(testMonitor, async ({ params, caller }) => {
      if (caller) refuseGroupLimited(caller, WHAT);
      checkMonitor(params);
      const sample = await latestServerSample(ctx, params.server);
      if (!sample) throw new RecordError('server', `No monitoring data for server "${params.server}" yet`, 404);
      try {
        return { code: 0 as const, value: evaluateMonitor(params, sample) };
      } catch {
        return { code: 0 as const, fail: true };
      }
    }),
  );
  return routes;
}
