/** `/v1/search*`: task-monitor searches over the caller's application (org from the caller, app from the header). */
import { type ServiceContext, implement, leekAppAccess } from '@shallot/core';
import { leekSearch, leekSearchSummary, leekSearchWorkflow } from '@shallot/schemas';
import { LEEK_EVENTS_SPEC, LEEK_SUMMARY_SPEC } from '@shallot/store';
import { type SearchTarget, runDslSearch } from '../leek/dsl-search.js';
import { leekEnvHeader, searchPage } from '../leek/request.js';
import { workflowOf } from '../leek/workflow.js';

/** Task and worker documents: the app's namespace `<org>-<app>` (§1.2). */
const EVENTS: SearchTarget = { spec: LEEK_EVENTS_SPEC, label: (scope) => scope };
/** The summary namespace `summary-<org>-<app>` (§1.2). */
const SUMMARY: SearchTarget = { spec: LEEK_SUMMARY_SPEC, label: (scope) => `summary-${scope}` };

export function searchRoutes(ctx: ServiceContext) {
  const { store, config } = ctx;
  return [
    implement(leekSearch, async ({ caller, request }) => {
      const { scope } = await leekAppAccess(request, caller, store, config, 'member');
      leekEnvHeader(request, false);
      return runDslSearch(store, EVENTS, scope, request.body, searchPage(request.query));
    }),

    implement(leekSearchSummary, async ({ caller, request }) => {
      const { scope } = await leekAppAccess(request, caller, store, config, 'member');
      leekEnvHeader(request, false);
      return runDslSearch(store, SUMMARY, scope, request.body, searchPage(request.query));
    }),

    implement(leekSearchWorkflow, async ({ caller, request, params }) => {
      const { scope } = await leekAppAccess(request, caller, store, config, 'member');
      const env = leekEnvHeader(request, true);
      return workflowOf(store, scope, env, params.root_id);
    }),
  ];
}
