/**
 * Limit entries (spec/data-structures.md §3) of events, categories and workflow limit nodes: one shared check so
 * every place that stores limits refuses the same mistakes with the same message.
 */

export const LIMIT_TYPES = ['time', 'job', 'log', 'mem', 'cpu', 'retry', 'queue', 'file', 'day', 'tag'] as const;
export type LimitType = (typeof LIMIT_TYPES)[number];

/** Limits that take actions when exceeded, and so may carry these extra fields. */
const WITH_ACTIONS = new Set<string>(['time', 'log', 'mem', 'cpu']);
const ID = /^\w+$/;
const ACCEPT = /^[\w\s\-.,]*$/;
/** Conditions a `day` limit may count (the saved action conditions). */
const DAY_CONDITION = /^(start|complete|success|warning|error|user|critical|abort|tag:\w+)$/;

export class LimitError extends Error {
  override readonly name = 'LimitError';
}

type Entry = Record<string, unknown>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function need(condition: boolean, message: string): void {
  if (!condition) throw new LimitError(message);
}

/** Checks every limit of a list; the first problem throws LimitError naming the entry ("Limit #2: …"). */
export function validateLimits(limits: unknown): void {
  need(Array.isArray(limits), 'limits must be an array');
  const list = limits as unknown[];
  for (const [index, raw] of list.entries()) {
    const where = `Limit #${index + 1}`;
    need(!!raw && typeof raw === 'object' && !Array.isArray(raw), `${where} must be an object`);
    const limit = raw as Entry;
    need(typeof limit.enabled === 'boolean', `${where}: enabled must be true or false`);
    const type = String(limit.type ?? '');
    need((LIMIT_TYPES as readonly string[]).includes(type), `${where}: unknown type ${JSON.stringify(limit.type)}`);
    checkType(type as LimitType, limit, where, list);
    if (WITH_ACTIONS.has(type)) checkActionFields(limit, where);
  }
}

function positive(limit: Entry, field: string, where: string, what: string): void {
  need(isNumber(limit[field]) && (limit[field] as number) > 0, `${where}: ${what} (${field}) must be a positive number`);
}

function optionalNumber(limit: Entry, field: string, where: string, what: string): void {
  need(
    limit[field] === undefined || (isNumber(limit[field]) && (limit[field] as number) >= 0),
    `${where}: ${what} (${field}) must be a number`,
  );
}

function checkType(type: LimitType, limit: Entry, where: string, list: unknown[]): void {
  switch (type) {
    case 'time':
      positive(limit, 'duration', where, 'the maximum run time in seconds');
      return;
    case 'job':
      need(
        Number.isInteger(limit.amount) && (limit.amount as number) >= 1,
        `${where}: the maximum number of concurrent jobs (amount) must be a positive whole number`,
      );
      optionalNumber(limit, 'weight', where, 'the job weight');
      return;
    case 'log':
      positive(limit, 'amount', where, 'the maximum output size in bytes');
      return;
    case 'mem':
      positive(limit, 'amount', where, 'the maximum memory in bytes');
      optionalNumber(limit, 'duration', where, 'the sustain time in seconds');
      return;
    case 'cpu':
      positive(limit, 'amount', where, 'the maximum CPU percentage');
      optionalNumber(limit, 'duration', where, 'the sustain time in seconds');
      return;
    case 'retry':
      optionalNumber(limit, 'amount', where, 'the maximum number of retries');
      optionalNumber(limit, 'duration', where, 'the retry delay in seconds');
      return;
    case 'queue': {
      optionalNumber(limit, 'amount', where, 'the maximum queue length');
      const queued = isNumber(limit.amount) && limit.amount > 0;
      const hasJobLimit = list.some((l) => !!l && typeof l === 'object' && (l as Entry).type === 'job' && (l as Entry).enabled === true);
      need(!queued || hasJobLimit, `${where}: a queue needs an enabled job (max concurrent jobs) limit in the same list`);
      return;
    }
    case 'file':
      optionalNumber(limit, 'amount', where, 'the maximum number of files');
      optionalNumber(limit, 'size', where, 'the maximum total size in bytes');
      need(
        limit.accept === undefined || (typeof limit.accept === 'string' && ACCEPT.test(limit.accept)),
        `${where}: accept must be a list of file types such as ".csv,.json" (letters, digits, spaces, - . , only)`,
      );
      return;
    case 'day':
      need(
        typeof limit.condition === 'string' && DAY_CONDITION.test(limit.condition),
        `${where}: condition must be a known action condition`,
      );
      optionalNumber(limit, 'amount', where, 'the maximum per day');
      return;
    case 'tag':
      optionalNumber(limit, 'amount', where, 'the maximum number of tags');
      return;
  }
}

/** The optional fields of limits that act when exceeded: what they notify and whether they abort. */
function checkActionFields(limit: Entry, where: string): void {
  need(limit.tags === undefined || isStringArray(limit.tags), `${where}: tags must be an array of tag ids`);
  need(limit.users === undefined || isStringArray(limit.users), `${where}: users must be an array of usernames`);
  need(limit.email === undefined || typeof limit.email === 'string', `${where}: email must be a string`);
  need(
    limit.web_hook === undefined || limit.web_hook === '' || (typeof limit.web_hook === 'string' && ID.test(limit.web_hook)),
    `${where}: web_hook must be a web hook id`,
  );
  need(limit.text === undefined || typeof limit.text === 'string', `${where}: text must be a string`);
  need(limit.snapshot === undefined || typeof limit.snapshot === 'boolean', `${where}: snapshot must be true or false`);
  need(limit.abort === undefined || typeof limit.abort === 'boolean', `${where}: abort must be true or false`);
}
