/**
 * Limit entries (spec/data-structures.md §3) as events (and the jobs they launch) carry them. A shared limits
 * validator may replace this one; the rules are the spec's.
 */

export const JOB_LIMIT_TYPES = ['time', 'job', 'log', 'mem', 'cpu', 'retry', 'queue', 'file', 'day', 'tag'] as const;
const DAY_CONDITION = /^(start|complete|success|warning|error|user|critical|abort|tag:\w+)$/;
const ACCEPT = /^[\w\s\-.,]*$/;

export class JobLimitError extends Error {
  override readonly name = 'JobLimitError';
}

type Entry = Record<string, unknown>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function need(condition: boolean, message: string): void {
  if (!condition) throw new JobLimitError(message);
}

/** Checks every limit of a list; the first problem throws JobLimitError naming the entry. */
export function validateJobLimits(limits: readonly unknown[]): void {
  for (const [index, raw] of limits.entries()) {
    const where = `Limit #${index + 1}`;
    need(!!raw && typeof raw === 'object' && !Array.isArray(raw), `${where} must be an object`);
    const limit = raw as Entry;
    need(typeof limit.enabled === 'boolean', `${where}: enabled must be true or false`);
    const type = String(limit.type ?? '');
    need((JOB_LIMIT_TYPES as readonly string[]).includes(type), `${where}: Unknown type ${JSON.stringify(limit.type)}`);
    switch (type) {
      case 'time':
        need(isNumber(limit.duration) && limit.duration > 0, `${where}: duration must be a positive number of seconds`);
        break;
      case 'job':
        need(Number.isInteger(limit.amount) && (limit.amount as number) >= 1, `${where}: amount must be a positive integer`);
        need(limit.weight === undefined || (isNumber(limit.weight) && limit.weight >= 0), `${where}: weight must be a number`);
        break;
      case 'log':
        need(isNumber(limit.amount) && limit.amount > 0, `${where}: amount must be a positive number of bytes`);
        break;
      case 'mem':
      case 'cpu':
        need(isNumber(limit.amount) && limit.amount > 0, `${where}: amount must be a positive number`);
        need(limit.duration === undefined || isNumber(limit.duration), `${where}: duration must be a number`);
        break;
      case 'retry':
        need(isNumber(limit.amount) && limit.amount >= 0, `${where}: amount must be a number`);
        need(limit.duration === undefined || (isNumber(limit.duration) && limit.duration >= 0), `${where}: duration must be a number`);
        break;
      case 'queue':
        need(isNumber(limit.amount) && limit.amount >= 0, `${where}: amount must be a number`);
        if (limit.enabled && limit.amount) {
          need(
            limits.some((l) => !!l && (l as Entry).type === 'job' && (l as Entry).enabled === true),
            `${where}: a queue needs an enabled Max Concurrent Jobs limit in the same list`,
          );
        }
        break;
      case 'file':
        need(isNumber(limit.amount) && limit.amount >= 0, `${where}: amount must be a number`);
        need(limit.size === undefined || (isNumber(limit.size) && limit.size >= 0), `${where}: size must be a number`);
        need(limit.accept === undefined || (typeof limit.accept === 'string' && ACCEPT.test(limit.accept)), `${where}: accept is invalid`);
        break;
      case 'day':
        need(DAY_CONDITION.test(String(limit.condition ?? '')), `${where}: unknown condition ${JSON.stringify(limit.condition)}`);
        need(isNumber(limit.amount) && limit.amount >= 0, `${where}: amount must be a number`);
        break;
      case 'tag':
        need(isNumber(limit.amount) && limit.amount >= 0, `${where}: amount must be a number`);
        break;
    }
    if (['time', 'log', 'mem', 'cpu'].includes(type)) {
      need(
        limit.tags === undefined || (Array.isArray(limit.tags) && limit.tags.every((t) => typeof t === 'string')),
        `${where}: tags must be an array`,
      );
      need(
        limit.users === undefined || (Array.isArray(limit.users) && limit.users.every((t) => typeof t === 'string')),
        `${where}: users must be an array`,
      );
      need(limit.email === undefined || typeof limit.email === 'string', `${where}: email must be a string`);
      need(
        limit.web_hook === undefined || limit.web_hook === '' || (typeof limit.web_hook === 'string' && /^\w+$/.test(limit.web_hook)),
        `${where}: web_hook must be a web hook id`,
      );
    }
  }
}
