/**
 * Event triggers (spec/data-structures.md §2): one strict schema per type, and the rules across a trigger list
 * (at most one of some types, mutual exclusions). Events validate `triggers` with `TriggerList` and `triggerListProblem`;
 * the scheduler (services/job-runner/src/scheduler) gives them their meaning.
 */
import { type Static, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { OpenObject } from './common.js';

/** Epoch seconds, positive. */
const Epoch = Type.Integer({ minimum: 1, maximum: 1e11 });

/** Fields every trigger may carry. */
const common = {
  enabled: Type.Boolean(),
  id: Type.Optional(Type.String({ pattern: '^[\\w.-]+$', maxLength: 100, description: 'Doubles as the workflow trigger-node id' })),
};
/** Fields of the launching types (schedule, single, interval, startup, keyboard): what the launched job gets. */
const launching = {
  params: Type.Optional(OpenObject),
  tags: Type.Optional(Type.Array(Type.String({ pattern: '^\\w+$', maxLength: 100 }), { maxItems: 100 })),
  data: Type.Optional(Type.Union([OpenObject, Type.Array(Type.Unknown(), { maxItems: 10000 })])),
};

function trigger<K extends string, T extends TProperties>(type: K, fields: T, description: string) {
  return Type.Object(
    { type: Type.Literal(type), ...common, ...fields },
    { additionalProperties: false, description, $id: `Trigger_${type}` },
  );
}

const list = <T extends TSchema>(item: T, max: number) => Type.Optional(Type.Array(item, { maxItems: max }));

export const ManualTrigger = trigger('manual', {}, 'Runs on demand (UI/API); required by run_event unless test');
export const ScheduleTrigger = trigger(
  'schedule',
  {
    ...launching,
    years: list(Type.Integer({ minimum: 1970, maximum: 3000 }), 1000),
    months: list(Type.Integer({ minimum: 1, maximum: 12 }), 12),
    days: list(Type.Union([Type.Integer({ minimum: 1, maximum: 31 }), Type.Integer({ minimum: -7, maximum: -1 })]), 38),
    weekdays: list(Type.Integer({ minimum: 0, maximum: 6 }), 7),
    hours: list(Type.Integer({ minimum: 0, maximum: 23 }), 24),
    minutes: list(Type.Integer({ minimum: 0, maximum: 59 }), 60),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'IANA zone; else the configured one' })),
  },
  'Every non-empty list must contain the wall-clock part (days: the day, or −1 for the last day of the month …)',
);
export const IntervalTrigger = trigger(
  'interval',
  { ...launching, start: Epoch, duration: Type.Integer({ minimum: 1, maximum: 1e9, description: 'Seconds' }) },
  'Fires at start + k·duration, to the second',
);
export const SingleTrigger = trigger('single', { ...launching, epoch: Epoch }, 'One shot, at a whole minute');
export const StartupTrigger = trigger('startup', launching, 'Fires once when a scheduler starts with a fresh process');
export const KeyboardTrigger = trigger(
  'keyboard',
  {
    ...launching,
    keys: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 10 }),
    watch: Type.Optional(Type.Boolean()),
  },
  'Runs from a UI key combination',
);
export const MagicTrigger = trigger(
  'magic',
  {
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Input only: never stored' })),
    token: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    body: Type.Optional(Type.String({ maxLength: 65536 })),
  },
  'Runs from its magic URL',
);
export const CatchupTrigger = trigger('catchup', {}, 'Replays every minute missed while the scheduler did not run');
export const NthTrigger = trigger('nth', { every: Type.Integer({ minimum: 2, maximum: 1e6 }) }, 'Runs every Nth hit only');
export const RangeTrigger = trigger(
  'range',
  { start: Type.Optional(Epoch), end: Type.Optional(Epoch) },
  'Hits must fall inside at least one range (inclusive; an open end allowed)',
);
export const BlackoutTrigger = trigger('blackout', { start: Epoch, end: Epoch }, 'Hits inside are dropped (inclusive)');
export const DelayTrigger = trigger(
  'delay',
  { duration: Type.Integer({ minimum: 1, maximum: 1e7, description: 'Seconds' }) },
  'Scheduled jobs wait in start_delay for this long',
);
export const PrecisionTrigger = trigger(
  'precision',
  { seconds: Type.Array(Type.Integer({ minimum: 0, maximum: 59 }), { minItems: 1, maxItems: 60 }) },
  'One job per listed second within each hit minute',
);
export const QuietTrigger = trigger(
  'quiet',
  { invisible: Type.Optional(Type.Boolean()), ephemeral: Type.Optional(Type.Boolean()) },
  'Launched jobs are invisible and/or ephemeral',
);
export const PluginTrigger = trigger(
  'plugin',
  {
    plugin_id: Type.String({ pattern: '^\\w+$', minLength: 1, maxLength: 100 }),
    params: Type.Optional(OpenObject),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  'Gates each scheduled hit through a scheduler plugin',
);

export const Trigger = Type.Union(
  [
    ManualTrigger,
    ScheduleTrigger,
    IntervalTrigger,
    SingleTrigger,
    StartupTrigger,
    KeyboardTrigger,
    MagicTrigger,
    CatchupTrigger,
    NthTrigger,
    RangeTrigger,
    BlackoutTrigger,
    DelayTrigger,
    PrecisionTrigger,
    QuietTrigger,
    PluginTrigger,
  ],
  { $id: 'Trigger' },
);
export type Trigger = Static<typeof Trigger>;
export type ScheduleTrigger = Static<typeof ScheduleTrigger>;
export type IntervalTrigger = Static<typeof IntervalTrigger>;
export type SingleTrigger = Static<typeof SingleTrigger>;
export type RangeTrigger = Static<typeof RangeTrigger>;
export type BlackoutTrigger = Static<typeof BlackoutTrigger>;
export type PrecisionTrigger = Static<typeof PrecisionTrigger>;
export type DelayTrigger = Static<typeof DelayTrigger>;
export type NthTrigger = Static<typeof NthTrigger>;
export type QuietTrigger = Static<typeof QuietTrigger>;
export type PluginTrigger = Static<typeof PluginTrigger>;
export type TriggerType = Trigger['type'];

export const TriggerList = Type.Array(Trigger, { maxItems: 1000, $id: 'TriggerList' });

/** Types the scheduler launches on its own. */
export const LAUNCHING_TRIGGER_TYPES = ['schedule', 'single', 'interval'] as const;
/** Types of which at most one may be enabled (data-structures §2, plus `delay`). */
export const UNIQUE_TRIGGER_TYPES = ['startup', 'catchup', 'nth', 'manual', 'precision', 'quiet', 'plugin', 'delay'] as const;
/** Pairs that may not both be enabled. */
export const EXCLUSIVE_TRIGGER_TYPES = [
  ['interval', 'precision'],
  ['interval', 'delay'],
  ['precision', 'delay'],
] as const;

/**
 * What is wrong with a schema-valid trigger list beyond each entry's shape, or undefined. `isZone` says whether a
 * time zone name is known (the runtime's Intl data); left out, zones are not checked.
 */
export function triggerListProblem(triggers: readonly Trigger[], isZone?: (zone: string) => boolean): string | undefined {
  const enabled = triggers.filter((t) => t.enabled);
  const count = (type: string) => enabled.filter((t) => t.type === type).length;
  for (const type of UNIQUE_TRIGGER_TYPES) {
    if (count(type) > 1) return `At most one enabled ${type} trigger is allowed.`;
  }
  for (const [a, b] of EXCLUSIVE_TRIGGER_TYPES) {
    if (count(a) > 0 && count(b) > 0) return `An enabled ${a} trigger cannot be combined with an enabled ${b} trigger.`;
  }
  for (const [index, t] of triggers.entries()) {
    const where = `triggers[${index}] (${t.type})`;
    if ((t.type === 'range' || t.type === 'blackout') && t.start !== undefined && t.end !== undefined && t.start > t.end) {
      return `${where}: start must not be after end.`;
    }
    if (t.type === 'quiet' && !t.invisible && !t.ephemeral) return `${where}: set invisible, ephemeral or both.`;
    if ((t.type === 'schedule' || t.type === 'plugin') && t.timezone && isZone && !isZone(t.timezone)) {
      return `${where}: unknown time zone ${JSON.stringify(t.timezone)}; use an IANA name such as Europe/Paris.`;
    }
  }
  return undefined;
}

/**
 * Saved form of a trigger list: epochs of single/range/blackout are floored to the minute (data-structures §2) and
 * a magic trigger's plain `key` is replaced by its token by the events section, not here.
 */
export function normalizeTriggers(triggers: readonly Trigger[]): Trigger[] {
  const floor = (ts: number) => ts - (ts % 60);
  return triggers.map((t) => {
    if (t.type === 'single') return { ...t, epoch: floor(t.epoch) };
    if (t.type === 'range') {
      return { ...t, ...(t.start !== undefined ? { start: floor(t.start) } : {}), ...(t.end !== undefined ? { end: floor(t.end) } : {}) };
    }
    if (t.type === 'blackout') return { ...t, start: floor(t.start), end: floor(t.end) };
    return t;
  });
}
