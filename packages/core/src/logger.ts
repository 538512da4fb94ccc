/** Logger options shared by every service: credentials and secrets are redacted before anything is written. */
import type { FastifyServerOptions } from 'fastify';

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-session-id"]',
  'req.headers["x-csrf-token"]',
  'req.headers["x-leek-app-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.api_key',
];

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
}
