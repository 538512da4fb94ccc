/** The Slack incoming-webhook message for a task transition (leek-management-and-search §4.3). */
import type { LeekNotifiedTask } from '@shallot/schemas';

/** Exceptions are cut to this many characters in a message. @default 1000 */
export const MAX_EXCEPTION_LENGTH = 1000;

const DANGER = new Set(['FAILED', 'RETRY', 'REJECTED', 'REVOKED', 'CRITICAL']);
const GOOD = new Set(['SUCCEEDED', 'RECOVERED']);
const PENDING = new Set(['QUEUED', 'RECEIVED', 'STARTED']);

export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

export interface SlackAttachment {
  fallback: string;
  color: string;
  title: string;
  title_link?: string;
  fields: SlackField[];
}

export interface SlackMessage {
  attachments: SlackAttachment[];
}

export function stateColor(state: string): string {
  if (DANGER.has(state)) return 'danger';
  if (GOOD.has(state)) return 'good';
  if (PENDING.has(state)) return '#36C5F0';
  return 'yellow';
}

/** Slack reads `<…>` as links and mentions: task data must not be able to ping a channel or forge a link. */
export const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export interface TaskMessageInput {
  app: string;
  task: LeekNotifiedTask;
  /** Runtime-bound note, when the trigger set one. */
  note?: string;
  /** `config.publicUrl`; without it the title carries no link. */
  publicUrl: string;
}

/** The task page of the web UI: `<public URL>/task?app=<app>&uuid=<uuid>`. */
export function taskLink(publicUrl: string, app: string, uuid: string): string | undefined {
  const base = publicUrl.trim().replace(/\/+$/, '');
  if (!base) return undefined;
  return `${base}/task?app=${encodeURIComponent(app)}&uuid=${encodeURIComponent(uuid)}`;
}

export function taskMessage({ app, task, note, publicUrl }: TaskMessageInput): SlackMessage {
  const name = task.name || 'N/A';
  const field = (title: string, value: string, short: boolean): SlackField => ({ title, value: slackEscape(value), short });
  const fields = [
    field('Application', app, true),
    field('Environment', task.app_env, true),
    field('Task worker', task.worker || 'N/A', true),
    field('Task state', task.state, true),
    field('Task uuid', task.uuid, false),
  ];
  if (task.runtime !== undefined) fields.push(field('Runtime', `${task.runtime} seconds`, true));
  if (task.exception) fields.push(field('Exception', cut(task.exception, MAX_EXCEPTION_LENGTH), false));
  if (note) fields.push(field('Note', note, false));
  const link = taskLink(publicUrl, app, task.uuid);
  return {
    attachments: [
      {
        fallback: slackEscape(`${task.state}: ${name} (${app}, ${task.app_env})`),
        color: stateColor(task.state),
        title: slackEscape(`Task: ${name}`),
        ...(link ? { title_link: link } : {}),
        fields,
      },
    ],
  };
}
