/**
 * Running a job's actions (behaviour §10): the enabled actions of the given conditions, de-duplicated by type and
 * target, all in parallel; each records its outcome (`code`, `description`, `details`, `date`, `elapsed_ms`) on the
 * action entry. An action that fails never changes the job's result.
 */
import type { JobRecord } from '@shallot/core';
import { emailAction } from './email.js';
import { runEventAction } from './run-event.js';
import { deleteAction, disableAction, labelAction, tagAction } from './simple.js';
import type { ActionDeps, ActionEntry, ActionOutcome, JobAction } from './types.js';
import { webHookAction } from './web-hook.js';

export type { ActionDeps } from './types.js';

const ACTIONS = new Map<string, JobAction>(
  [webHookAction, emailAction, runEventAction, disableAction, deleteAction, tagAction, labelAction].map((a) => [a.type, a]),
);

/** Action types defined by the spec that this runner does not perform yet; they are recorded as not run. */
const NOT_AVAILABLE: Record<string, string> = {
  channel: 'Channel actions are not available yet',
  snapshot: 'Snapshots are not available yet',
  ticket: 'Tickets are not available yet',
  plugin: 'Action plugins are not available yet',
  suspend: 'Suspending jobs is not available yet',
  store: 'Bucket store actions are not available yet',
  fetch: 'Bucket fetch actions are not available yet',
};

function dedupeKey(action: ActionEntry): string | undefined {
  switch (action.type) {
    case 'email':
      return `email:${String(action.email ?? '')}:${JSON.stringify(action.users ?? [])}`;
    case 'web_hook':
      return `web_hook:${String(action.web_hook)}`;
    case 'run_event':
      return `run_event:${String(action.event_id)}`;
    case 'channel':
      return `channel:${String(action.channel_id)}`;
    case 'plugin':
      return `plugin:${String(action.plugin_id)}`;
    case 'store':
    case 'fetch':
      return `${action.type}:${String(action.bucket_id)}`;
    case 'disable':
    case 'snapshot':
      return String(action.type);
    default:
      return undefined;
  }
}

/** The conditions a completed job matches (behaviour §9.5 step 6). */
export function completionConditions(job: JobRecord): string[] {
  const code = job.code;
  const conditions = ['complete'];
  if (code === 0 || code === false || code === undefined) conditions.push('success');
  else {
    conditions.push('error');
    conditions.push(code === 'warning' || code === 'critical' || code === 'abort' ? code : 'user');
  }
  for (const tag of (job.tags as string[]) ?? []) conditions.push(`tag:${tag}`);
  return conditions;
}

async function runOne(entry: ActionEntry, job: JobRecord, deps: ActionDeps, condition: string): Promise<void> {
  const started = Date.now();
  let outcome: ActionOutcome;
  const action = ACTIONS.get(String(entry.type));
  if (!action)
    outcome = { code: String(entry.type), description: NOT_AVAILABLE[String(entry.type)] ?? `Unknown action type: ${String(entry.type)}` };
  else {
    try {
      outcome = await action.run(entry, job, deps, condition);
    } catch (error) {
      outcome = { code: String(entry.type), description: (error as Error).message };
    }
  }
  Object.assign(entry, { ...outcome, date: started / 1000, elapsed_ms: Date.now() - started });
}

/** Runs the job's actions for these conditions; answers how many ran. */
export async function runActions(job: JobRecord, conditions: readonly string[], deps: ActionDeps): Promise<number> {
  const actions = Array.isArray(job.actions) ? (job.actions as ActionEntry[]) : [];
  const seen = new Set<string>();
  const chosen: Array<[ActionEntry, string]> = [];
  for (const condition of conditions) {
    for (const entry of actions) {
      // Actions that already carry a result were run before (e.g. by a previous owner of the job).
      if (entry?.enabled !== true || entry.condition !== condition || 'code' in entry) continue;
      const key = dedupeKey(entry);
      if (key) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      chosen.push([entry, condition]);
    }
  }
  await Promise.all(chosen.map(([entry, condition]) => runOne(entry, job, deps, condition)));
  return chosen.length;
}
