/**
 * `/v1/users/whoami`, `/v1/applications/transforms*`, `/v1/applications/broker`, `/v1/control/*` and `/v1/broker/*`:
 * the rest of what the Leek web client calls, with the spec's permission levels (§8: retry and revoke need
 * membership, purge needs an admin, the broker setting the owner).
 */
import { randomUUID } from 'node:crypto';
import {
  type Caller,
  LeekError,
  type LeekLevel,
  type ServiceContext,
  implement,
  leekAppAccess,
  leekCallerOf,
  leekJsonString,
} from '@shallot/core';
import {
  isAppEnv,
  leekBrokerDrift,
  leekBrokerQueuePurge,
  leekBrokerQueues,
  leekBrokerSet,
  leekBrokerUnset,
  leekTaskRetry,
  leekTaskRetryByQuery,
  leekTaskRevokeById,
  leekTaskRevokeByName,
  leekTransformsList,
  leekTransformsStart,
  leekWhoami,
} from '@shallot/schemas';
import type { FastifyRequest } from 'fastify';
import { updateApplication } from '../leek/applications.js';
import {
  brokerUrlOf,
  checkBrokerSetting,
  checkQueueName,
  checkRevocable,
  checkTaskId,
  checkTaskName,
  ORIGIN,
  getTask,
  latestEventTimestamp,
  planBulkRetry,
  retryTask,
  runBulkRetry,
  tasksByQuery,
  revocableTasksByName,
  revokeTasks,
  withBroker,
} from '../leek/control.js';

const pathParam = (request: FastifyRequest, name: string): unknown => (request.params as Record<string, unknown> | undefined)?.[name];

/** The `x-leek-app-env` header: 400 `400001` when missing, 400 `400002` unless lower-case letters. */
function envHeader(request: FastifyRequest): string {
  const value = request.headers['x-leek-app-env'];
  if (value === undefined || value === '') throw new LeekError('headerMissing', 'The x-leek-app-env header is required');
  if (!isAppEnv(value)) throw new LeekError('invalid', 'x-leek-app-env must be lower-case letters only');
  return value;
}

/** Celery's Redis transport has no per-queue consumer or unacked counts: the UI's "unknown" is -1 (as Leek answers). */
const UNKNOWN = -1;

export function leekControlRoutes(ctx: ServiceContext) {
  const { store, config } = ctx;
  const allow = config.brokerAllow;
  const access = (request: FastifyRequest, caller: Caller | null, level: LeekLevel) => leekAppAccess(request, caller, store, config, level);

  return [
    implement(leekWhoami, async ({ caller }) => {
      const who = await leekCallerOf(caller, store, config);
      return { claims: { email: who.email, org: who.org, kind: who.kind } };
    }),

    implement(leekTransformsList, async ({ caller, request }) => {
      await access(request, caller, 'member');
      return [];
    }),

    implement(leekTransformsStart, async ({ caller, request, reply }) => {
      await access(request, caller, 'owner');
      return leekJsonString(reply, 'Done');
    }),

    implement(leekBrokerSet, async ({ params, caller, request }) => {
      const { record } = await access(request, caller, 'owner');
      await checkBrokerSetting(params.broker_url, allow);
      return updateApplication(store, record, () => ({ broker_url: params.broker_url }));
    }),

    implement(leekBrokerUnset, async ({ caller, request }) => {
      const { record } = await access(request, caller, 'owner');
      // null, not absent: a partial update cannot remove a field on every engine (applicationOf hides it).
      return updateApplication(store, record, () => ({ broker_url: null as unknown as string }));
    }),

    implement(leekTaskRetry, async ({ caller, request }) => {
      const uuid = checkTaskId(pathParam(request, 'task_uuid'));
      const { record, scope } = await access(request, caller, 'member');
      brokerUrlOf(record);
      return retryTask(record, allow, await getTask(store, scope, uuid));
    }),

    implement(leekTaskRetryByQuery, async ({ params, caller, request }) => {
      const env = envHeader(request);
      const { record, scope } = await access(request, caller, 'member');
      brokerUrlOf(record);
      const origin = `${ORIGIN}.bulk-retry.${randomUUID()}`;
      const plan = planBulkRetry(await tasksByQuery(store, scope, env, params.query), origin);
      if (params.dry_run !== false) {
        return {
          eligible_tasks_count: plan.eligible.length,
          ineligible_tasks_count: plan.ineligible.length,
          ineligible_tasks_ids: plan.ineligible,
        };
      }
      const { succeeded, failed } = await runBulkRetry(record, allow, plan);
      return { succeeded_retries_count: succeeded.length, failed_retries_count: failed.length, failed_retries: failed, origin };
    }),

    implement(leekTaskRevokeById, async ({ params, caller, request }) => {
      const uuid = checkTaskId(pathParam(request, 'task_uuid'));
      const { record, scope } = await access(request, caller, 'member');
      brokerUrlOf(record);
      const doc = await getTask(store, scope, uuid);
      checkRevocable(doc);
      return revokeTasks(record, allow, [uuid], params);
    }),

    implement(leekTaskRevokeByName, async ({ params, caller, request }) => {
      const name = checkTaskName(pathParam(request, 'task_name'));
      const env = envHeader(request);
      const { record, scope } = await access(request, caller, 'member');
      const ids = await revocableTasksByName(store, scope, env, name);
      if (ids.length === 0) {
        throw new LeekError('notRevocable', `No QUEUED, RECEIVED or STARTED task named ${name} in environment ${env}`);
      }
      if (params.dry_run === 'true') return { revocation_count: ids.length };
      return revokeTasks(record, allow, ids, params);
    }),

    implement(leekBrokerDrift, async ({ caller, request }) => {
      const env = envHeader(request);
      const { record, scope } = await access(request, caller, 'member');
      // Reachability first, as Leek: a drift figure from a broker that is down would mislead.
      await withBroker(record, allow, async () => undefined);
      return {
        // Celery events on Redis are a fanout (PUBLISH on the celeryev channel): no queue holds them, no depth to read.
        queue_name: 'celeryev',
        latest_event_timestamp: await latestEventTimestamp(store, scope, env),
        messages: { total: UNKNOWN, unacked: UNKNOWN },
        consumers_count: UNKNOWN,
      };
    }),

    implement(leekBrokerQueues, async ({ params, caller, request }) => {
      const { record } = await access(request, caller, 'member');
      const queues = await withBroker(record, allow, (broker) => broker.queues());
      const hidePidBoxes = params.hide_pid_boxes === 'true';
      return queues
        .filter((q) => !(hidePidBoxes && q.name.endsWith('.pidbox')))
        .map((q) => ({
          name: q.name,
          state: 'running',
          memory: q.memory,
          consumers: UNKNOWN,
          durable: !q.fanout,
          messages: { ready: q.ready, unacknowledged: UNKNOWN, total: q.ready },
          rates: { incoming: null, deliver_get: null, ack: null },
        }));
    }),

    implement(leekBrokerQueuePurge, async ({ caller, request }) => {
      const queue = checkQueueName(pathParam(request, 'queue_name'));
      const { record } = await access(request, caller, 'admin');
      const purged = await withBroker(record, allow, (broker) => broker.purge(queue));
      if (purged === undefined) throw new LeekError('queueNotFound', `No queue named ${queue} is bound on the broker`);
      return { purged };
    }),
  ];
}
