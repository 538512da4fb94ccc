/** `/v1/applications*`: task-monitor applications, triggers, admins and dead letters, with the spec's permission levels. */
import { type LeekLevel, type ServiceContext, implement, leekAppAccess, leekCallerOf, leekJsonString } from '@shallot/core';
import {
  leekAdminAdd,
  leekAdminRemove,
  leekApplicationClean,
  leekApplicationCleanupTasks,
  leekApplicationCreate,
  leekApplicationDelete,
  leekApplicationIndices,
  leekApplicationList,
  leekApplicationPurge,
  leekDeadLettersList,
  leekDeadLettersPurge,
  leekTriggerCreate,
  leekTriggerDelete,
  leekTriggerEdit,
} from '@shallot/schemas';
import { LeekError, createWebhookGuard, generateId } from '@shallot/core';
import type { Caller } from '@shallot/core';
import type { FastifyRequest } from 'fastify';
import {
  addAdmin,
  addTrigger,
  applicationStats,
  checkTriggerId,
  cleanApplication,
  createFromRequest,
  deleteApplication,
  deleteTrigger,
  editTrigger,
  generateTriggerId,
  isEligibleAdmin,
  listApplications,
  listDeadLetters,
  purgeApplication,
  purgeDeadLetters,
  removeAdmin,
  resolveAdminTarget,
  triggerFromBody,
} from '../leek/applications.js';
import { verifyTriggerWebhook } from '../leek/webhook-check.js';

const pathParam = (request: FastifyRequest, name: string): unknown => (request.params as Record<string, unknown> | undefined)?.[name];

export function applicationRoutes(ctx: ServiceContext) {
  const { store, config } = ctx;
  const guard = createWebhookGuard(config.webhookAllow);
  const access = (request: FastifyRequest, caller: Caller | null, level: LeekLevel) => leekAppAccess(request, caller, store, config, level);

  return [
    implement(leekApplicationCreate, async ({ params, caller, reply }) => {
      const who = await leekCallerOf(caller, store, config);
      const app = await createFromRequest(store, who.org, who.id, params);
      reply.code(201);
      return app;
    }),

    implement(leekApplicationList, async ({ caller }) => {
      const who = await leekCallerOf(caller, store, config);
      return listApplications(store, who.org);
    }),

    implement(leekApplicationDelete, async ({ caller, request, reply }) => {
      const { who, app } = await access(request, caller, 'owner');
      await deleteApplication(store, who.org, app.app_name);
      return leekJsonString(reply, 'Done');
    }),

    implement(leekApplicationPurge, async ({ caller, request, reply }) => {
      const { scope } = await access(request, caller, 'admin');
      await purgeApplication(store, scope);
      return leekJsonString(reply, 'Done');
    }),

    implement(leekApplicationClean, async ({ params, caller, request }) => {
      const { scope } = await access(request, caller, 'admin');
      const deleted = await cleanApplication(store, scope, params);
      return { task: generateId('cl'), deleted };
    }),

    implement(leekApplicationCleanupTasks, async ({ caller, request }) => {
      await access(request, caller, 'member');
      return [];
    }),

    implement(leekApplicationIndices, async ({ caller, request }) => {
      const { scope } = await access(request, caller, 'member');
      return applicationStats(store, scope);
    }),

    implement(leekTriggerCreate, async ({ params, caller, request }) => {
      const { record, app } = await access(request, caller, 'owner');
      const trigger = triggerFromBody(generateTriggerId(), params);
      await verifyTriggerWebhook(app.app_name, trigger, guard);
      return addTrigger(store, record, trigger);
    }),

    implement(leekTriggerEdit, async ({ params, caller, request }) => {
      const id = checkTriggerId(pathParam(request, 'trigger_id'));
      const { record, app } = await access(request, caller, 'owner');
      const trigger = triggerFromBody(id, params);
      await verifyTriggerWebhook(app.app_name, trigger, guard);
      return editTrigger(store, record, trigger);
    }),

    implement(leekTriggerDelete, async ({ caller, request }) => {
      const id = checkTriggerId(pathParam(request, 'trigger_id'));
      const { record } = await access(request, caller, 'owner');
      return deleteTrigger(store, record, id);
    }),

    implement(leekAdminAdd, async ({ caller, request }) => {
      const { record, app } = await access(request, caller, 'owner');
      const target = await resolveAdminTarget(store, pathParam(request, 'email'));
      if (!isEligibleAdmin(target.email, app.org, config)) {
        throw new LeekError(
          'notEligible',
          `${target.user} has no verified address in an organisation allowed to administer this application`,
        );
      }
      return addAdmin(store, record, target);
    }),

    implement(leekAdminRemove, async ({ caller, request }) => {
      const { record } = await access(request, caller, 'owner');
      return removeAdmin(store, record, pathParam(request, 'email'));
    }),

    implement(leekDeadLettersList, async ({ params, caller, request }) => {
      const { scope } = await access(request, caller, 'admin');
      return listDeadLetters(store, scope, { size: params.size ?? 100, from: params.from_ ?? 0 });
    }),

    implement(leekDeadLettersPurge, async ({ caller, request }) => {
      const { scope } = await access(request, caller, 'admin');
      return { deleted: await purgeDeadLetters(store, scope) };
    }),
  ];
}
