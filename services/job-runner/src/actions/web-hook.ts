/** `web_hook` action: fires the web hook definition with the job's hook data, through the SSRF guard. */
import { sendWebHook } from '@shallot/core';
import type { JobAction } from './types.js';

/** What a job web hook's templates see (JobHookData, simplified). */
export function jobHookData(job: Record<string, unknown>, condition: string, text: string): Record<string, unknown> {
  const code = job.code;
  const summary =
    condition === 'start'
      ? `Job started: ${job.id}`
      : code === 0 || code === undefined
        ? `Job completed successfully: ${job.id}`
        : `Job failed: ${job.id}: ${String(job.description ?? code)}`;
  const message = text ? `${summary} ${text}` : summary;
  return { action: `job_${condition}`, job, text: message, content: message, message, epoch: Math.floor(Date.now() / 1000) };
}

export const webHookAction: JobAction = {
  type: 'web_hook',
  async run(action, job, deps, condition) {
    const hook = await deps.ctx.store.collections.get('web_hooks', String(action.web_hook));
    if (!hook) return { code: 'webhook', description: `Web hook not found: ${String(action.web_hook)}` };
    if (hook.enabled === false) return { code: 0, description: 'Web hook is disabled: skipped' };
    const outcome = await sendWebHook(hook as never, jobHookData(job, condition, typeof action.text === 'string' ? action.text : ''), {
      guard: deps.guard,
      fallback: 'N/A',
    });
    return { code: outcome.code, description: outcome.description, details: outcome.details };
  },
};
