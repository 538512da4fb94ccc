/**
 * `email` action (behaviour §10): a plain-text message about the job to the e-mail addresses of `users` plus the
 * `email` list, over SMTP (`SHALLOT_SMTP_URL`, e.g. smtp://host:25) with nodemailer. No recipients is code 0
 * "skipping"; no transport configured, or a refused delivery, is code `email`.
 */
import { USERS, userKey } from '@shallot/core';
import { createTransport } from 'nodemailer';
import type { JobAction } from './types.js';

const ADDRESS = /^[^\s@<>,;]+@[^\s@<>,;]+$/;

function subjectFor(job: Record<string, unknown>, condition: string): string {
  const title = String(job.event_title ?? job.event ?? job.id);
  if (condition === 'start') return `Job started: ${title}`;
  return job.code === 0 ? `Job completed successfully: ${title}` : `Job failed: ${title}: ${String(job.description ?? job.code)}`;
}

function bodyFor(job: Record<string, unknown>, condition: string): string {
  const lines = [
    subjectFor(job, condition),
    '',
    `Job: ${job.id}`,
    `Event: ${String(job.event ?? '')}`,
    `Server: ${String(job.server ?? '')}`,
    `Code: ${String(job.code ?? '')}`,
    ...(job.description ? [`Description: ${String(job.description)}`] : []),
    ...(typeof job.elapsed === 'number' ? [`Elapsed: ${job.elapsed.toFixed(1)} s`] : []),
  ];
  const output = typeof job.output === 'string' ? job.output.slice(-4096) : '';
  return `${lines.join('\n')}${output ? `\n\nLog (end):\n${output}` : ''}\n`;
}

export const emailAction: JobAction = {
  type: 'email',
  async run(action, job, deps, condition) {
    const recipients = new Set<string>();
    for (const username of Array.isArray(action.users) ? (action.users as string[]) : []) {
      const user = await deps.ctx.store.collections.get(USERS, userKey(username));
      if (user && user.active !== false && typeof user.email === 'string' && ADDRESS.test(user.email)) recipients.add(user.email);
    }
    for (const address of String(action.email ?? '').split(',')) if (ADDRESS.test(address.trim())) recipients.add(address.trim());
    if (recipients.size === 0) return { code: 0, description: 'No recipients: skipping' };
    const url = deps.ctx.config.smtpUrl;
    if (!url) return { code: 'email', description: 'No mail transport is configured (SHALLOT_SMTP_URL)' };
    const transport = createTransport({ url, connectionTimeout: deps.timeoutMs, socketTimeout: deps.timeoutMs });
    try {
      const info = await transport.sendMail({
        from: deps.ctx.config.mailFrom,
        to: [...recipients].join(', '),
        subject: subjectFor(job, condition),
        text: bodyFor(job, condition),
      });
      return { code: 0, description: `E-mail sent to ${recipients.size} recipient(s)`, details: `Message id: ${String(info.messageId)}` };
    } catch (error) {
      return { code: 'email', description: `E-mail failed: ${(error as Error).message}` };
    } finally {
      transport.close();
    }
  },
};
