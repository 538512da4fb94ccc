/** Action entries (spec/data-structures.md §4) as alerts and groups store them (and, later, events and categories). */

export const ACTION_TYPES = [
  'email',
  'web_hook',
  'run_event',
  'channel',
  'snapshot',
  'ticket',
  'plugin',
  'suspend',
  'disable',
  'delete',
  'store',
  'fetch',
  'tag',
  'label',
] as const;
/** Types that only make sense on a job. */
const JOB_ONLY = new Set(['suspend', 'disable', 'delete', 'store', 'fetch']);
const JOB_CONDITION = /^(start|complete|success|warning|error|user|critical|abort|tag:\w+)$/;
const ALERT_CONDITION = /^(alert_new|alert_cleared)$/;
const TICKET_TYPES = new Set(['issue', 'feature', 'release', 'change', 'maintenance', 'question', 'other']);
const BUCKET_SYNC = new Set(['data', 'files', 'data_and_files']);
const ID = /^\w+$/;

export class ActionError extends Error {
  override readonly name = 'ActionError';
}

/** Looks up referenced records; each answers whether the id exists (and, for plugins, its type). */
export interface ActionLookups {
  event?: (id: string) => Promise<boolean>;
  plugin?: (id: string) => Promise<{ type?: unknown } | undefined>;
}

export interface ActionRules {
  /** `alert`: alert and group alert actions (conditions alert_new/alert_cleared, no job-only types). */
  context: 'alert' | 'job';
  lookups?: ActionLookups;
}

type Entry = Record<string, unknown>;

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function need(condition: boolean, message: string): void {
  if (!condition) throw new ActionError(message);
}

/** Checks every action of a list; the first problem throws ActionError naming the entry. */
export async function validateActions(actions: readonly unknown[], rules: ActionRules): Promise<void> {
  for (const [index, raw] of actions.entries()) {
    const where = `Action #${index + 1}`;
    need(!!raw && typeof raw === 'object' && !Array.isArray(raw), `${where} must be an object`);
    const action = raw as Entry;
    need(typeof action.enabled === 'boolean', `${where}: enabled must be true or false`);
    const condition = String(action.condition ?? '');
    const conditions = rules.context === 'alert' ? ALERT_CONDITION : JOB_CONDITION;
    need(conditions.test(condition), `${where}: unknown condition ${JSON.stringify(action.condition)}`);
    const type = String(action.type ?? '');
    need((ACTION_TYPES as readonly string[]).includes(type), `${where}: unknown type ${JSON.stringify(action.type)}`);
    need(!(rules.context === 'alert' && JOB_ONLY.has(type)), `${where}: type ${type} can only be used on jobs`);
    await checkType(type, action, where, rules.lookups ?? {});
  }
}

async function checkType(type: string, a: Entry, where: string, lookups: ActionLookups): Promise<void> {
  switch (type) {
    case 'email':
      need(isStringArray(a.users), `${where}: users must be an array of usernames`);
      need(a.email === undefined || typeof a.email === 'string', `${where}: email must be a string`);
      need((a.users as string[]).length > 0 || !!String(a.email ?? '').trim(), `${where}: an email action needs at least one recipient`);
      return;
    case 'web_hook':
      need(typeof a.web_hook === 'string' && ID.test(a.web_hook), `${where}: web_hook must be a web hook id`);
      return;
    case 'run_event':
      need(typeof a.event_id === 'string' && ID.test(a.event_id), `${where}: event_id must be an event id`);
      if (lookups.event) need(await lookups.event(a.event_id as string), `${where}: event not found: ${a.event_id}`);
      return;
    case 'channel':
      need(typeof a.channel_id === 'string' && ID.test(a.channel_id), `${where}: channel_id must be a channel id`);
      return;
    case 'ticket':
      need(TICKET_TYPES.has(String(a.ticket_type)), `${where}: ticket_type must be one of ${[...TICKET_TYPES].join(', ')}`);
      need(isStringArray(a.ticket_assignees), `${where}: ticket_assignees must be an array`);
      need(isStringArray(a.ticket_tags), `${where}: ticket_tags must be an array`);
      return;
    case 'plugin': {
      need(typeof a.plugin_id === 'string' && ID.test(a.plugin_id), `${where}: plugin_id must be a plugin id`);
      if (lookups.plugin) {
        const plugin = await lookups.plugin(a.plugin_id as string);
        need(!!plugin, `${where}: plugin not found: ${a.plugin_id}`);
        need(plugin?.type === 'action', `${where}: plugin ${a.plugin_id} is not an action plugin`);
      }
      return;
    }
    case 'store':
    case 'fetch':
      need(typeof a.bucket_id === 'string' && ID.test(a.bucket_id), `${where}: bucket_id must be a bucket id`);
      need(BUCKET_SYNC.has(String(a.bucket_sync)), `${where}: bucket_sync must be data, files or data_and_files`);
      return;
    case 'tag':
      need(isStringArray(a.tags) && a.tags.length > 0, `${where}: tags must be a non-empty array`);
      return;
    case 'label':
      need(
        typeof a.label === 'string' && !!a.label.trim() && !/[<>]/.test(a.label),
        `${where}: label must be non-empty text without < or >`,
      );
      return;
    default:
      return;
  }
}
