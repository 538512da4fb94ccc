/**
 * The scheduler's pure logic (behaviour §8): which events fire in a minute, with which slots, and the next run times
 * of an event. No Redis, no clock: times are epoch seconds passed in.
 */
import type { IntervalTrigger, PrecisionTrigger, QuietTrigger, ScheduleTrigger, SingleTrigger, Trigger } from '@shallot/schemas';
import { type WallParts, type Zone, type Zones, daysInMonth, wallParts } from './zone.js';

const DAY = 86_400;

export const minuteOf = (epoch: number) => Math.floor(epoch / 60) * 60;

/** What the scheduler needs of an event. Triggers are read loosely: entries of an unknown shape never fire. */
export interface SchedulableEvent {
  id: string;
  enabled?: unknown;
  category?: string;
  plugin?: string;
  triggers?: readonly unknown[];
}

export interface Catalog {
  /** Categories by id; an event whose category is missing or disabled fires nothing. */
  categories: ReadonlyMap<string, { enabled?: unknown }>;
  /** Plugins by id; an event whose plugin exists but is disabled fires nothing. */
  plugins: ReadonlyMap<string, { enabled?: unknown }>;
}

const isOn = (value: unknown) => value === true || value === 1 || value === 'true';
/** Records default to enabled when the field is absent (categories, plugins). */
const notOff = (value: unknown) => value === undefined || isOn(value);

/** The enabled triggers of an event, or none when the event may not be scheduled (behaviour §8 "skipped when"). */
export function schedulableTriggers(event: SchedulableEvent, catalog: Catalog): Trigger[] {
  if (!isOn(event.enabled)) return [];
  const triggers = (event.triggers ?? []).filter(
    (t): t is Trigger =>
      typeof t === 'object' &&
      t !== null &&
      (t as { enabled?: unknown }).enabled === true &&
      typeof (t as { type?: unknown }).type === 'string',
  );
  if (triggers.length === 0) return [];
  const category = event.category === undefined ? undefined : catalog.categories.get(event.category);
  if (!category || !notOff(category.enabled)) return [];
  const plugin = event.plugin === undefined ? undefined : catalog.plugins.get(event.plugin);
  if (plugin && !notOff(plugin.enabled)) return [];
  return triggers;
}

const has = (list: readonly number[] | undefined, value: number) => !list || list.length === 0 || list.includes(value);

/** Whether a wall date (not the time) is allowed by a schedule's year, month, day and weekday lists. */
export function dateMatches(t: ScheduleTrigger, p: Pick<WallParts, 'year' | 'month' | 'day' | 'weekday' | 'rday'>): boolean {
  return (
    has(t.years, p.year) &&
    has(t.months, p.month) &&
    (!t.days || t.days.length === 0 || t.days.includes(p.day) || t.days.includes(p.rday)) &&
    has(t.weekdays, p.weekday)
  );
}

export function partsMatch(t: ScheduleTrigger, p: WallParts): boolean {
  return dateMatches(t, p) && has(t.hours, p.hour) && has(t.minutes, p.minute);
}

/** Whether a schedule fires in the minute starting at `minute` (a wall time skipped by DST never; a repeated one once). */
export function scheduleMatches(t: ScheduleTrigger, zone: Zone, minute: number): boolean {
  return partsMatch(t, zone.parts(minute)) && !zone.isRepeat(minute);
}

/** Second offsets within the minute at which an interval fires: start + k·duration, k ≥ 0. */
export function intervalHits(t: Pick<IntervalTrigger, 'start' | 'duration'>, minute: number): number[] {
  if (t.start >= minute + 60) return [];
  const k = t.start >= minute ? 0 : Math.ceil((minute - t.start) / t.duration);
  const hits: number[] = [];
  for (let at = t.start + k * t.duration; at < minute + 60; at += t.duration) hits.push(at - minute);
  return hits;
}

/** A matched launching trigger and the second offsets of its slots in the minute ([0] unless interval/precision). */
interface Hit {
  trigger: ScheduleTrigger | SingleTrigger | IntervalTrigger;
  seconds: number[];
}

function launchingHit(triggers: readonly Trigger[], zones: Zones, minute: number): Hit | undefined {
  for (const t of triggers) {
    if (t.type === 'single') {
      if (t.epoch - (t.epoch % 60) === minute) return { trigger: t, seconds: [0] };
    } else if (t.type === 'interval') {
      const seconds = intervalHits(t, minute);
      if (seconds.length > 0) return { trigger: t, seconds };
    } else if (t.type === 'schedule') {
      let zone: Zone;
      try {
        zone = zones.get(t.timezone);
      } catch {
        continue; // an unknown zone (saved before validation existed) never fires
      }
      if (scheduleMatches(t, zone, minute)) return { trigger: t, seconds: [0] };
    }
  }
  return undefined;
}

/** Range and blackout filters (inclusive, on the minute). */
export function windowsAllow(triggers: readonly Trigger[], minute: number): boolean {
  const ranges = triggers.filter((t) => t.type === 'range');
  if (ranges.length > 0 && !ranges.some((r) => (r.start === undefined || minute >= r.start) && (r.end === undefined || minute <= r.end))) {
    return false;
  }
  return !triggers.some((t) => t.type === 'blackout' && minute >= t.start && minute <= t.end);
}

/** One job to launch, as the scheduler hands it on (behaviour §8 "Launch"). */
export interface PlannedLaunch {
  event: string;
  /** The job's `now`: the slot. */
  now: number;
  minute: number;
  source: 'scheduler' | 'plugin' | 'startup';
  stype?: string;
  trigger?: string;
  state?: 'start_delay';
  until?: number;
  params?: Record<string, unknown>;
  tags?: string[];
  data?: unknown;
  invisible?: boolean;
  ephemeral?: boolean;
  splugin?: string;
}

export interface MinutePlan {
  launches: PlannedLaunch[];
  /** Set when an `nth` trigger gates the hit: the claim decrements the event's counter and launches on ≤ 0. */
  nth?: number;
}

/**
 * The launches of one event for one minute, before the nth counter (kept in Redis with the claim). Empty when no
 * launching trigger matches or a window filters the minute out.
 */
export function planMinute(eventId: string, triggers: readonly Trigger[], zones: Zones, minute: number): MinutePlan {
  const hit = launchingHit(triggers, zones, minute);
  if (!hit || !windowsAllow(triggers, minute)) return { launches: [] };
  const delay = triggers.find((t) => t.type === 'delay');
  const precision = triggers.find((t): t is PrecisionTrigger => t.type === 'precision');
  const quiet = triggers.find((t): t is QuietTrigger => t.type === 'quiet');
  const plugin = triggers.find((t) => t.type === 'plugin');
  const nth = triggers.find((t) => t.type === 'nth');
  const t = hit.trigger;
  const base: PlannedLaunch = {
    event: eventId,
    now: minute,
    minute,
    source: plugin ? 'plugin' : 'scheduler',
    ...(t.type !== 'schedule' ? { stype: t.type } : {}),
    ...(t.id ? { trigger: t.id } : {}),
    ...(t.params ? { params: t.params } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
    ...(t.data !== undefined ? { data: t.data } : {}),
    ...(quiet?.invisible ? { invisible: true } : {}),
    ...(quiet?.ephemeral ? { ephemeral: true } : {}),
    ...(plugin ? { splugin: plugin.plugin_id } : {}),
  };
  // An interval's own second offsets replace any precision for the minute; delay and precision exclude each other.
  const seconds = t.type === 'interval' ? hit.seconds : precision ? [...new Set(precision.seconds)].sort((a, b) => a - b) : undefined;
  let launches: PlannedLaunch[];
  if (seconds) {
    launches = seconds.map((s) => ({ ...base, now: minute + s, state: 'start_delay', until: minute + s }));
  } else if (delay) {
    launches = [{ ...base, state: 'start_delay', until: minute + delay.duration }];
  } else {
    launches = [base];
  }
  return nth ? { launches, nth: nth.every } : { launches };
}

/**
 * The launch of an event's enabled `startup` trigger, if it has one (modifiers do not apply: behaviour §8 "Startup
 * triggers"). `now` is the scheduler's start, in seconds.
 */
export function planStartup(eventId: string, triggers: readonly Trigger[], now: number): PlannedLaunch | undefined {
  const t = triggers.find((x) => x.type === 'startup');
  if (t?.type !== 'startup') return undefined;
  return {
    event: eventId,
    now,
    minute: minuteOf(now),
    source: 'startup',
    ...(t.id ? { trigger: t.id } : {}),
    ...(t.params ? { params: t.params } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
    ...(t.data !== undefined ? { data: t.data } : {}),
  };
}

export function hasCatchup(triggers: readonly Trigger[]): boolean {
  return triggers.some((t) => t.type === 'catchup');
}

export function isLaunching(triggers: readonly Trigger[]): boolean {
  return triggers.some((t) => t.type === 'schedule' || t.type === 'single' || t.type === 'interval');
}

/** Sorted, unique list values, or the full range when the list is empty. */
function values(list: readonly number[] | undefined, from: number, to: number): number[] {
  if (list && list.length > 0) return [...new Set(list)].filter((v) => v >= from && v <= to).sort((a, b) => a - b);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * The instants (epoch seconds, whole minutes) after `after` and up to `until` at which a schedule fires, in order,
 * walking wall days rather than minutes.
 */
export function* scheduleRuns(t: ScheduleTrigger, zone: Zone, after: number, until: number): Generator<number> {
  const hours = values(t.hours, 0, 23);
  const minutes = values(t.minutes, 0, 59);
  const lastYear = t.years && t.years.length > 0 ? Math.max(...t.years) : Number.POSITIVE_INFINITY;
  // Start a day early: the wall day of `after` may begin before it in UTC terms.
  let dayWall = Math.floor(zone.wall(after) / DAY) * DAY - DAY;
  const lastDayWall = zone.wall(until) + DAY;
  while (dayWall <= lastDayWall) {
    const d = wallParts(dayWall);
    if (d.year > lastYear) return;
    if (!has(t.years, d.year)) {
      dayWall = Date.UTC(d.year + 1, 0, 1) / 1000;
      continue;
    }
    if (!has(t.months, d.month)) {
      dayWall = Date.UTC(d.year, d.month, 1) / 1000;
      continue;
    }
    if (dateMatches(t, d)) {
      const steady = zone.steadyOffset(dayWall);
      for (const h of hours) {
        for (const m of minutes) {
          const wall = dayWall + h * 3600 + m * 60;
          const epoch = steady === undefined ? zone.firstInstant(wall) : wall - steady;
          if (epoch === undefined || epoch <= after) continue;
          if (epoch > until) return;
          yield epoch;
        }
      }
    }
    dayWall += DAY;
  }
}

/** The instants after `after` and up to `until` at which an interval fires. */
export function* intervalRuns(t: Pick<IntervalTrigger, 'start' | 'duration'>, after: number, until: number): Generator<number> {
  const k = t.start > after ? 0 : Math.floor((after - t.start) / t.duration) + 1;
  for (let at = t.start + k * t.duration; at <= until; at += t.duration) yield at;
}

function* merge(sources: Iterator<number>[]): Generator<number> {
  const heads = sources.map((s) => s.next());
  let last = Number.NEGATIVE_INFINITY;
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head && !head.done) {
        const current = heads[best];
        if (best < 0 || (current && !current.done && head.value < current.value)) best = i;
      }
    }
    if (best < 0) return;
    const head = heads[best] as IteratorYieldResult<number>;
    if (head.value > last) yield head.value;
    last = Math.max(last, head.value);
    heads[best] = (sources[best] as Iterator<number>).next();
  }
}

export interface NextRunsOptions {
  /** Only runs strictly after this instant (epoch seconds). */
  after: number;
  count: number;
  /** How far ahead to look. @default 366 days × 5 */
  horizonSeconds?: number;
}

/**
 * The next `count` slots (job `now` values) of an event's triggers, after range and blackout windows, with precision
 * seconds. Not counted: nth gating (it depends on the counter's future) and plugin gating (decided at run time).
 */
export function nextRuns(triggers: readonly Trigger[], zones: Zones, options: NextRunsOptions): number[] {
  const { after, count } = options;
  const until = after + (options.horizonSeconds ?? 5 * 366 * DAY);
  const sources: Iterator<number>[] = [];
  for (const t of triggers) {
    if (t.type === 'single') {
      const epoch = t.epoch - (t.epoch % 60);
      sources.push([epoch].filter((e) => e + 59 > after && e <= until)[Symbol.iterator]());
    } else if (t.type === 'interval') {
      sources.push(intervalRuns(t, after - 60, until));
    } else if (t.type === 'schedule') {
      try {
        sources.push(scheduleRuns(t, zones.get(t.timezone), after - 60, until));
      } catch {
        // unknown zone: never fires
      }
    }
  }
  const runs: number[] = [];
  const minutes = merge(sources.map((s) => minuteStream(s)));
  for (const minute of minutes) {
    if (runs.length >= count) break;
    // The launching trigger chosen for a minute is the first that matches, as the tick does.
    const plan = planMinute('', triggers, zones, minute);
    for (const launch of plan.launches) if (launch.now > after && runs.length < count) runs.push(launch.now);
  }
  return runs;
}

/** Instants → the distinct minutes they fall in. */
function* minuteStream(source: Iterator<number>): Generator<number> {
  let last = Number.NEGATIVE_INFINITY;
  for (let r = source.next(); !r.done; r = source.next()) {
    const m = minuteOf(r.value);
    if (m !== last) yield m;
    last = m;
  }
}

export { daysInMonth };

/**
 * `next_runs` of an event for get_event: its next `count` slots after `after` (epoch seconds), none when the event or
 * all of its launching triggers are disabled. The category and plugin are the caller's to check (it has them).
 */
export function eventNextRuns(event: SchedulableEvent, zones: Zones, after: number, count: number): number[] {
  if (!isOn(event.enabled)) return [];
  const triggers = (event.triggers ?? []).filter(
    (t): t is Trigger => typeof t === 'object' && t !== null && (t as { enabled?: unknown }).enabled === true,
  );
  return nextRuns(triggers, zones, { after, count });
}
