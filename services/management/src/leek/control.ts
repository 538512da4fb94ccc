/**
 * Control and broker calls of the task monitor (leek-management-and-search §8) over the app's Celery broker: retry
 * (send a finished task again with its stored args and kwargs), revoke (Celery's broadcast `revoke` command), queue
 * lengths and purge. Callers have checked who may do what.
 */
import { randomUUID } from 'node:crypto';
import { LEEK_CODES, LeekError } from '@shallot/core';
import { RETRY_ALLOWED_TASK_STATES, UNREADY_TASK_STATES, isTerminalTaskState } from '@shallot/schemas';
import { type CollectionRecord, LEEK_EVENTS_INDEX, LEEK_EVENTS_SPEC, type Query, type Store, fromDsl, resolveSpec } from '@shallot/store';
import { type CeleryBroker, type TaskMessage, checkBrokerHost, openBroker, parseBrokerUrl } from './celery-broker.js';
import { parsePythonLiteral } from './python-literal.js';

/** Revoke-by-name sends at most this many ids in one command (as Leek's search size). */
export const MAX_REVOKE_BY_NAME = 10_000;
/** A bulk retry considers at most this many tasks (as Leek's search size). */
export const MAX_RETRY_BY_QUERY = 10_000;
/** Who the retried task says sent it (Celery's `origin` header; Leek says `leek@control`). */
export const ORIGIN = 'shallot@control';
/** Celery's default task exchange, for task documents that never recorded theirs. */
const DEFAULT_EXCHANGE = 'celery';

/** Task ids as Celery makes them (uuid4) or as callers choose them: word characters, dots, dashes, colons, @. */
export function checkTaskId(value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.:@-]{1,200}$/.test(value)) {
    throw new LeekError('invalid', 'A task id is 1 to 200 letters, digits, _ . : @ or -');
  }
  return value;
}

/** Task names in paths: a Celery task's dotted name. */
export function checkTaskName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.:-]{1,256}$/.test(value)) {
    throw new LeekError('invalid', 'A task name is 1 to 256 letters, digits, _ . : or -');
  }
  return value;
}

/** Queue names in paths: what Celery and kombu use (no control characters, no separators). */
export function checkQueueName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.:@-]{1,200}$/.test(value)) {
    throw new LeekError('invalid', 'A queue name is 1 to 200 letters, digits, _ . : @ or -');
  }
  return value;
}

/** The app's broker URL; 501 naming the setting when the app has none. */
export function brokerUrlOf(record: CollectionRecord): string {
  const url = record.broker_url;
  if (typeof url !== 'string' || url === '') {
    throw new LeekError(
      'noBroker',
      `Application "${String(record.app_name)}" has no Celery broker configured: its owner sets broker_url with PUT /v1/applications/broker`,
    );
  }
  return url;
}

/**
 * Validates a broker URL and its host (allowed address, resolvable) before it is saved; a broker that is down now
 * is fine, it is not contacted.
 */
export async function checkBrokerSetting(url: string, allow: string): Promise<void> {
  try {
    await checkBrokerHost(parseBrokerUrl(url), allow);
  } catch (error) {
    if (error instanceof LeekError && error.code !== LEEK_CODES.invalid[0]) throw new LeekError('invalid', `broker_url: ${error.message}`);
    throw error;
  }
}

/** Opens the app's broker, runs `work`, closes it. */
export async function withBroker<T>(record: CollectionRecord, allow: string, work: (broker: CeleryBroker) => Promise<T>): Promise<T> {
  const broker = await openBroker(brokerUrlOf(record), allow);
  try {
    return await work(broker);
  } finally {
    broker.close();
  }
}

type TaskDoc = Record<string, unknown>;

/** The task document of that id in the app; 404 `404001` when there is none (a worker document is no task). */
export async function getTask(store: Store, scope: string, uuid: string): Promise<TaskDoc> {
  const doc = await store.indexes.get(LEEK_EVENTS_INDEX, scope, uuid);
  if (doc === undefined || doc.kind !== 'task') throw new LeekError('taskNotFound', `Task ${uuid} does not exist in this application`);
  return doc;
}

function reprOf(doc: TaskDoc, field: 'args' | 'kwargs', empty: string): string {
  const value = doc[field];
  return typeof value === 'string' && value.trim() !== '' ? value : empty;
}

/** Re-reads the stored reprs; 400 `400004` when they are not literals JSON can carry (often: truncated by Celery). */
function argumentsOf(doc: TaskDoc): { args: unknown[]; kwargs: Record<string, unknown>; argsrepr: string; kwargsrepr: string } {
  const argsrepr = reprOf(doc, 'args', '()');
  const kwargsrepr = reprOf(doc, 'kwargs', '{}');
  try {
    const args = parsePythonLiteral(argsrepr);
    const kwargs = parsePythonLiteral(kwargsrepr);
    if (!Array.isArray(args)) throw new SyntaxError('args is not a tuple or list');
    if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) throw new SyntaxError('kwargs is not a dict');
    return { args, kwargs, argsrepr, kwargsrepr };
  } catch (error) {
    throw new LeekError(
      'malformedArgs',
      `The stored args/kwargs of this task cannot be sent again (${(error as Error).message}); if Celery truncated them, raise resultrepr_maxsize`,
    );
  }
}

/**
 * The message that sends a finished task again under a new id (Celery message protocol 2, its stored name, args,
 * kwargs, exchange and routing key). 412 `412003` unless `allowed` holds its state, 400 `400006` without a routing key
 * or name, 400 `400004` for unreadable args.
 */
export function retryMessage(doc: TaskDoc, allowed: (state: unknown) => boolean, origin = ORIGIN): TaskMessage {
  if (!allowed(doc.state)) {
    throw new LeekError('notRetryable', `Task ${String(doc.uuid)} is ${String(doc.state)}: only finished tasks can be retried`);
  }
  const routingKey = doc.routing_key;
  if (typeof routingKey !== 'string' || routingKey === '') {
    throw new LeekError('notRoutable', `Task ${String(doc.uuid)} has no routing key recorded: it cannot be sent again`);
  }
  if (typeof doc.name !== 'string' || doc.name === '') {
    throw new LeekError('notRoutable', `Task ${String(doc.uuid)} has no name recorded: it cannot be sent again`);
  }
  const exchange = typeof doc.exchange === 'string' ? doc.exchange : DEFAULT_EXCHANGE;
  const { args, kwargs, argsrepr, kwargsrepr } = argumentsOf(doc);
  const taskId = randomUUID();
  const parentId = typeof doc.parent_id === 'string' ? doc.parent_id : null;
  // The retried task joins the original's workflow tree (its root), or starts its own.
  const rootId = typeof doc.root_id === 'string' && doc.root_id !== '' ? doc.root_id : taskId;
  const headers = {
    lang: 'py',
    task: doc.name,
    id: taskId,
    shadow: null,
    eta: null,
    expires: null,
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [null, null],
    root_id: rootId,
    parent_id: parentId,
    argsrepr,
    kwargsrepr,
    origin,
    ignore_result: true,
  };
  return { exchange, routingKey, headers, args, kwargs, correlationId: taskId };
}

/** Retries one finished task (any terminal state, as Leek's single retry). */
export async function retryTask(record: CollectionRecord, allow: string, doc: TaskDoc): Promise<{ task_id: string }> {
  const message = retryMessage(doc, isTerminalTaskState);
  await withBroker(record, allow, (broker) => broker.sendTask(message));
  return { task_id: message.correlationId };
}

const resolvedEvents = resolveSpec(LEEK_EVENTS_SPEC);

/**
 * Tasks of the environment matching a search body's `query` (the DSL subset `/v1/search` accepts), at most
 * MAX_RETRY_BY_QUERY of them.
 */
export async function tasksByQuery(store: Store, scope: string, env: string, body: Record<string, unknown>): Promise<TaskDoc[]> {
  const search = fromDsl({ query: body.query ?? { match_all: {} } }, resolvedEvents, { size: 0, from: 0 });
  const must: Query[] = [{ term: { field: 'kind', value: 'task' } }, { term: { field: 'app_env', value: env } }];
  if (search.request.query !== undefined) must.push(search.request.query);
  const { hits } = await store.indexes.search(LEEK_EVENTS_INDEX, scope, { query: { bool: { must } }, limit: MAX_RETRY_BY_QUERY });
  return hits;
}

export interface BulkRetryPlan {
  eligible: Array<{ uuid: string; message: TaskMessage }>;
  ineligible: string[];
}

/** Which tasks a bulk retry sends again: FAILED, REJECTED, REVOKED or CRITICAL ones, routable, with readable args. */
export function planBulkRetry(docs: TaskDoc[], origin: string): BulkRetryPlan {
  const plan: BulkRetryPlan = { eligible: [], ineligible: [] };
  const allowed = (state: unknown) => RETRY_ALLOWED_TASK_STATES.has(state as never);
  for (const doc of docs) {
    try {
      plan.eligible.push({ uuid: String(doc.uuid), message: retryMessage(doc, allowed, origin) });
    } catch (error) {
      if (!(error instanceof LeekError)) throw error;
      plan.ineligible.push(String(doc.uuid));
    }
  }
  return plan;
}

/** Sends every eligible task of the plan on one connection; a task no queue takes is a failed retry, not an error. */
export async function runBulkRetry(
  record: CollectionRecord,
  allow: string,
  plan: BulkRetryPlan,
): Promise<{ succeeded: string[]; failed: string[] }> {
  return withBroker(record, allow, async (broker) => {
    const succeeded: string[] = [];
    const failed: string[] = [];
    for (const { uuid, message } of plan.eligible) {
      try {
        await broker.sendTask(message);
        succeeded.push(uuid);
      } catch (error) {
        if (!(error instanceof LeekError) || error.code !== LEEK_CODES.notRoutable[0]) throw error;
        failed.push(uuid);
      }
    }
    return { succeeded, failed };
  });
}

export interface Revocation {
  terminate?: boolean | undefined;
  signal?: 'SIGTERM' | 'SIGKILL' | undefined;
}

/** Broadcasts Celery's `revoke` for these ids (workers skip them when they arrive, and kill them with terminate). */
export async function revokeTasks(
  record: CollectionRecord,
  allow: string,
  ids: string[],
  options: Revocation,
): Promise<{ acknowledged: boolean; revocation_count: number }> {
  const args = {
    task_id: ids.length === 1 ? ids[0] : ids,
    terminate: options.terminate ?? false,
    signal: options.signal ?? 'SIGTERM',
  };
  await withBroker(record, allow, (broker) => broker.broadcast('revoke', args));
  return { acknowledged: true, revocation_count: ids.length };
}

/** 412 `412004` when the task has finished (nothing to revoke). */
export function checkRevocable(doc: TaskDoc): void {
  if (isTerminalTaskState(doc.state)) {
    throw new LeekError('notRevocable', `Task ${String(doc.uuid)} is ${String(doc.state)}: only unfinished tasks can be revoked`);
  }
}

/** Ids of the unfinished (QUEUED, RECEIVED, STARTED) tasks of that name in the environment. */
export async function revocableTasksByName(store: Store, scope: string, env: string, name: string): Promise<string[]> {
  const { hits } = await store.indexes.search(LEEK_EVENTS_INDEX, scope, {
    query: {
      bool: {
        must: [
          { term: { field: 'kind', value: 'task' } },
          { term: { field: 'app_env', value: env } },
          { term: { field: 'name', value: name } },
          { terms: { field: 'state', values: [...UNREADY_TASK_STATES] } },
        ],
      },
    },
    limit: MAX_REVOKE_BY_NAME,
  });
  return hits.map((h) => String(h.uuid));
}

/** Epoch ms of the newest document of the environment, or null. */
export async function latestEventTimestamp(store: Store, scope: string, env: string): Promise<number | null> {
  const { hits } = await store.indexes.search(LEEK_EVENTS_INDEX, scope, {
    query: { term: { field: 'app_env', value: env } },
    sort: [{ field: 'timestamp', order: 'desc' }],
    limit: 1,
  });
  const ts = hits[0]?.timestamp;
  return typeof ts === 'number' ? ts : null;
}
