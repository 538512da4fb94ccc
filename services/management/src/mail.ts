/**
 * Outgoing account e-mail (welcome, password recovery, password changed). No transport exists yet: the default
 * mailer logs that a message would be sent — recipient and subject only, never the body (it may hold a recovery key).
 */
import type { FastifyBaseLogger } from 'fastify';

export interface MailMessage {
  to: string;
  subject: string;
  body: string;
}

export interface Mailer {
  /** `log` is the request's logger. */
  send(message: MailMessage, log: FastifyBaseLogger): Promise<void>;
}

export function loggingMailer(): Mailer {
  return {
    async send(message, log) {
      log.info({ to: message.to, subject: message.subject }, 'an e-mail would be sent here (no mail transport is configured)');
    },
  };
}
