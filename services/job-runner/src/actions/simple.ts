/** Actions that change the job or its event: `disable`, `delete`, `tag`, `label` (behaviour §10). */
import type { JobAction } from './types.js';

export const disableAction: JobAction = {
  type: 'disable',
  async run(_action, job) {
    job.update_event = { ...((job.update_event as object) ?? {}), enabled: false };
    return { code: 0, description: 'The event will be disabled when the job finishes' };
  },
};

export const deleteAction: JobAction = {
  type: 'delete',
  async run(_action, job) {
    job.delete_event = true;
    return { code: 0, description: 'The event will be deleted when the job finishes' };
  },
};

export const tagAction: JobAction = {
  type: 'tag',
  async run(action, job) {
    const tags = Array.isArray(action.tags) ? (action.tags as string[]) : [];
    job.tags = [...new Set([...((job.tags as string[]) ?? []), ...tags])];
    return { code: 0, description: `Tags added: ${tags.join(', ')}` };
  },
};

export const labelAction: JobAction = {
  type: 'label',
  async run(action, job) {
    job.label = String(action.label ?? '').replace(/<[^>]*>/g, '');
    return { code: 0, description: `Label set: ${job.label}` };
  },
};
