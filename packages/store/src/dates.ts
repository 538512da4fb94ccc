/** Dates as both engines see them: ISO-8601 strings or epoch milliseconds, Elasticsearch date math, histogram intervals (UTC). */
import { invalid } from './errors.js';

const DAY_MS = 86_400_000;
const FIXED_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };
const MATH_UNITS = new Set(['y', 'M', 'w', 'd', 'h', 'H', 'm', 's']);

export type CalendarUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
const CALENDAR_UNITS: Readonly<Record<string, CalendarUnit>> = {
  minute: 'minute',
  '1m': 'minute',
  hour: 'hour',
  '1h': 'hour',
  day: 'day',
  '1d': 'day',
  week: 'week',
  '1w': 'week',
  month: 'month',
  '1M': 'month',
  quarter: 'quarter',
  '1q': 'quarter',
  year: 'year',
  '1y': 'year',
};

const HAS_TIME = /T|\s\d/;
const HAS_ZONE = /(Z|[+-]\d\d:?\d\d)$/i;

/**
 * A document's or a query's date as epoch milliseconds: numbers are epoch ms (as Elasticsearch's `epoch_millis`),
 * strings are ISO-8601 (UTC when they carry no offset) or digits of epoch ms. Undefined when it is not a date.
 */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^-?\d{5,}$/.test(value)) return Number(value);
  const text = HAS_TIME.test(value) && !HAS_ZONE.test(value) ? `${value}Z` : value;
  if (!/^\d{4}-\d\d(-\d\d)?([T\s]|$)/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export const isoString = (ms: number): string => new Date(ms).toISOString();

function roundDown(ms: number, unit: string): number {
  const d = new Date(ms);
  switch (unit) {
    case 'y':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
    case 'M':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'w':
      return calendarFloor(ms, 'week');
    case 'd':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'h':
    case 'H':
      return Math.floor(ms / 3_600_000) * 3_600_000;
    case 'm':
      return Math.floor(ms / 60_000) * 60_000;
    default:
      return Math.floor(ms / 1000) * 1000;
  }
}

function addUnits(ms: number, amount: number, unit: string): number {
  const d = new Date(ms);
  switch (unit) {
    case 'y':
      d.setUTCFullYear(d.getUTCFullYear() + amount);
      return d.getTime();
    case 'M':
      d.setUTCMonth(d.getUTCMonth() + amount);
      return d.getTime();
    case 'w':
      return ms + amount * 7 * DAY_MS;
    case 'd':
      return ms + amount * DAY_MS;
    case 'h':
    case 'H':
      return ms + amount * 3_600_000;
    case 'm':
      return ms + amount * 60_000;
    default:
      return ms + amount * 1000;
  }
}

/**
 * A range bound on a date field: a date (see toEpochMs) or date math (`now-1h`, `now/d`, `2024-01-01||+1M/M`).
 * `roundUp` is Elasticsearch's rounding for `gt` and `lte`: `/d` rounds to the end of the day.
 */
export function dateBound(value: string | number, field: string, roundUp: boolean, now = Date.now()): number {
  if (typeof value === 'string') {
    const math = /^(now|(.+?)\|\|)((?:[+-]\d+[yMwdhHms])*)(?:\/([yMwdhHms]))?$/.exec(value);
    if (math) {
      const anchor = math[1] === 'now' ? now : toEpochMs(math[2]);
      if (anchor !== undefined) {
        let ms = anchor;
        for (const step of (math[3] ?? '').matchAll(/([+-]\d+)([yMwdhHms])/g)) ms = addUnits(ms, Number(step[1]), step[2] ?? 's');
        const unit = math[4];
        if (unit !== undefined && MATH_UNITS.has(unit)) {
          ms = roundDown(ms, unit);
          if (roundUp) ms = addUnits(ms, 1, unit) - 1;
        }
        return ms;
      }
    }
  }
  const ms = toEpochMs(value);
  if (ms === undefined)
    throw invalid(
      `range on date field "${field}": ${JSON.stringify(value)} is not a date (use ISO-8601, epoch milliseconds or date math like now-1d)`,
    );
  return ms;
}

export function parseFixedInterval(interval: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  const unit = m?.[2];
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw invalid(`fixed_interval "${interval}" is invalid: use a positive number and one of ms, s, m, h, d (e.g. 30m)`);
  }
  return Number(m[1]) * (FIXED_UNITS[unit] ?? 1);
}

export function parseCalendarInterval(interval: string): CalendarUnit {
  const unit = CALENDAR_UNITS[interval];
  if (unit === undefined) {
    throw invalid(
      `calendar_interval "${interval}" is invalid: use one of minute, hour, day, week, month, quarter, year (or 1m, 1h, 1d, 1w, 1M, 1q, 1y)`,
    );
  }
  return unit;
}

/** Start of the UTC calendar bucket holding `ms`; weeks start on Monday (as in Elasticsearch). */
export function calendarFloor(ms: number, unit: CalendarUnit): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (unit) {
    case 'minute':
      return Math.floor(ms / 60_000) * 60_000;
    case 'hour':
      return Math.floor(ms / 3_600_000) * 3_600_000;
    case 'day':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'week': {
      const day = Math.floor(ms / DAY_MS) * DAY_MS;
      const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
      return day - sinceMonday * DAY_MS;
    }
    case 'month':
      return Date.UTC(y, mo, 1);
    case 'quarter':
      return Date.UTC(y, mo - (mo % 3), 1);
    case 'year':
      return Date.UTC(y, 0, 1);
  }
}

/** Start of the bucket after the one starting at `start`. */
export function calendarNext(start: number, unit: CalendarUnit): number {
  const d = new Date(start);
  switch (unit) {
    case 'minute':
      return start + 60_000;
    case 'hour':
      return start + 3_600_000;
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
  }
}

/** The units auto_date_histogram buckets start on. */
export type AutoUnit = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'year';
const AUTO_UNIT_LABELS: Readonly<Record<AutoUnit, string>> = { second: 's', minute: 'm', hour: 'h', day: 'd', month: 'M', year: 'y' };
const AUTO_FIXED_MS: Readonly<Partial<Record<AutoUnit, number>>> = { second: 1000, minute: 60_000, hour: 3_600_000, day: DAY_MS };

/** Elasticsearch's auto_date_histogram ladder, smallest first. */
export const AUTO_INTERVALS: ReadonlyArray<{ unit: AutoUnit; count: number }> = [
  ...[1, 5, 10, 30].map((count) => ({ unit: 'second' as const, count })),
  ...[1, 5, 10, 30].map((count) => ({ unit: 'minute' as const, count })),
  ...[1, 3, 12].map((count) => ({ unit: 'hour' as const, count })),
  ...[1, 7].map((count) => ({ unit: 'day' as const, count })),
  ...[1, 3].map((count) => ({ unit: 'month' as const, count })),
  ...[1, 5, 10, 20, 50, 100].map((count) => ({ unit: 'year' as const, count })),
];

export const isAutoUnit = (value: unknown): value is AutoUnit => typeof value === 'string' && Object.hasOwn(AUTO_UNIT_LABELS, value);

/** Start of the UTC unit holding `ms`. */
function autoUnitFloor(ms: number, unit: AutoUnit): number {
  const fixed = AUTO_FIXED_MS[unit];
  return fixed === undefined ? calendarFloor(ms, unit as 'month' | 'year') : Math.floor(ms / fixed) * fixed;
}

/** Whole units from `anchor` (a unit start) to the unit holding `ms`. */
function unitsSince(anchor: number, ms: number, unit: AutoUnit): number {
  const fixed = AUTO_FIXED_MS[unit];
  if (fixed !== undefined) return Math.round((autoUnitFloor(ms, unit) - anchor) / fixed);
  const a = new Date(anchor);
  const d = new Date(ms);
  const years = d.getUTCFullYear() - a.getUTCFullYear();
  return unit === 'year' ? years : years * 12 + d.getUTCMonth() - a.getUTCMonth();
}

function addAutoUnits(anchor: number, units: number, unit: AutoUnit): number {
  const fixed = AUTO_FIXED_MS[unit];
  if (fixed !== undefined) return anchor + units * fixed;
  const a = new Date(anchor);
  return unit === 'year' ? Date.UTC(a.getUTCFullYear() + units, 0, 1) : Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + units, 1);
}

/** The bucket key of `ms` when buckets of `count` units start at `anchor` (itself a unit start). */
export function autoBucketKey(ms: number, unit: AutoUnit, count: number, anchor: number): number {
  return addAutoUnits(anchor, Math.floor(unitsSince(anchor, ms, unit) / count) * count, unit);
}

export interface AutoBucketing {
  unit: AutoUnit;
  count: number;
  /** `5s`, `3h`, `1M`, … as Elasticsearch names the interval. */
  interval: string;
  /** Key of the first bucket: the start of the smallest value's unit. */
  anchor: number;
  /** Number of buckets from the first to the last value. */
  buckets: number;
  next(key: number): number;
}

/** The smallest interval of the ladder giving at most `target` buckets over [min, max] (the largest when none does). */
export function chooseAutoInterval(min: number, max: number, target: number): AutoBucketing {
  let chosen: AutoBucketing | undefined;
  for (const { unit, count } of AUTO_INTERVALS) {
    const anchor = autoUnitFloor(min, unit);
    const buckets = Math.floor(unitsSince(anchor, max, unit) / count) + 1;
    chosen = { unit, count, interval: `${count}${AUTO_UNIT_LABELS[unit]}`, anchor, buckets, next: (key) => addAutoUnits(key, count, unit) };
    if (buckets <= target) break;
  }
  return chosen as AutoBucketing;
}
