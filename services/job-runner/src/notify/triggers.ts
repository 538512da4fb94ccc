/** Whether one fan-out trigger notifies about one task transition (leek-management-and-search §4.2, include fixed). */
import type { LeekNotifiedTask, LeekTrigger } from '@shallot/schemas';
import type { PatternMatcher } from './patterns.js';

/** States where a runtime upper bound applies: only successes are "too slow". */
const BOUNDED_STATES = new Set(['SUCCEEDED', 'RECOVERED']);

export type TriggerDecision =
  | { notify: false; skipped: 'disabled' | 'env' | 'state' | 'excluded' | 'not included' | 'within runtime bound' }
  | { notify: true; note?: string };

/**
 * Applies the §4.2 steps in order. `env` is the batch's `x-leek-app-env` header (the reference filters on it, not on
 * the document's `app_env`). A task without a name is matched as "" (the reference crashed there). `include` means
 * only matching names notify (the reference inverted it into a second `exclude`).
 */
export function evaluateTrigger(trigger: LeekTrigger, env: string, task: LeekNotifiedTask, patterns: PatternMatcher): TriggerDecision {
  if (!trigger.enabled) return { notify: false, skipped: 'disabled' };
  if (trigger.envs.length > 0 && !trigger.envs.includes(env)) return { notify: false, skipped: 'env' };
  if (trigger.states.length > 0 && !trigger.states.includes(task.state)) return { notify: false, skipped: 'state' };
  const name = task.name ?? '';
  if (trigger.exclude?.length && patterns.matchesAny(trigger.exclude, name)) return { notify: false, skipped: 'excluded' };
  if (trigger.include?.length && !patterns.matchesAny(trigger.include, name)) return { notify: false, skipped: 'not included' };
  const bound = trigger.runtime_upper_bound;
  if (bound !== undefined && BOUNDED_STATES.has(task.state)) {
    const runtime = task.runtime ?? 0;
    if (runtime <= bound) return { notify: false, skipped: 'within runtime bound' };
    return { notify: true, note: `runtime upper bound exceeded: ${runtime} seconds` };
  }
  return { notify: true };
}
