/**
 * `run_event` action: launches the target event as a child job (source `action`, `parent` set, the parent's output
 * data as input). The target needs an enabled manual trigger; `params` apply only to keys of its `fields`.
 */
import { buildJob, enqueueJob } from '@shallot/core';
import type { JobAction } from './types.js';

export const runEventAction: JobAction = {
  type: 'run_event',
  async run(action, job, deps) {
    const { store } = deps.ctx;
    const event = await store.collections.get('events', String(action.event_id));
    if (!event) return { code: 'event', description: `Event not found: ${String(action.event_id)}` };
    const triggers = Array.isArray(event.triggers) ? (event.triggers as Array<Record<string, unknown>>) : [];
    if (!triggers.some((t) => t.type === 'manual' && t.enabled === true))
      return { code: 'event', description: `Event "${event.title}" does not allow manual job runs.` };
    if (event.enabled !== true) return { code: 'event', description: `Event "${event.title}" is disabled.` };
    const category = await store.collections.get('categories', String(event.category));
    if (!category) return { code: 'event', description: 'Category not found' };
    const plugin = await store.collections.get('plugins', String(event.plugin));
    const fieldIds = new Set((Array.isArray(event.fields) ? (event.fields as Array<{ id: string }>) : []).map((f) => f.id));
    const params: Record<string, unknown> = { ...((event.params as object) ?? {}) };
    for (const [key, value] of Object.entries((action.params as object) ?? {})) if (fieldIds.has(key)) params[key] = value;
    const child = buildJob({
      event: { ...event, params },
      category,
      ...(plugin ? { plugin } : {}),
      overrides: { input: { data: (job.data as object) ?? {}, files: (job.files as unknown[]) ?? [] } },
      source: 'action',
      parent: { job: job.id, event: job.event, code: job.code, description: job.description },
    });
    await enqueueJob(deps.redis, deps.dispatch, child);
    job.jobs = [...((job.jobs as unknown[]) ?? []), { id: child.id, reason: 'action' }];
    return { code: 0, description: `Job launched: ${child.id}` };
  },
};
