/**
 * Wall-clock time in an IANA time zone, from the runtime's Intl data (no tz library: Node ships full ICU).
 * Times are epoch seconds; "wall" seconds are the local date-time read as if it were UTC.
 */

export interface WallParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  /** 0 = Sunday */
  weekday: number;
  hour: number;
  minute: number;
  /** day − lastDayOfMonth − 1: −1 on the last day of the month. */
  rday: number;
}

const DAY = 86_400;
/** Far enough either side of a wall time to cover every UTC offset (−12 h … +14 h). */
const SPAN = 15 * 3600;

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The wall parts of a wall time (seconds read as UTC). */
export function wallParts(wall: number): WallParts {
  const d = new Date(wall * 1000);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  return {
    year,
    month,
    day,
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    rday: day - daysInMonth(year, month) - 1,
  };
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The system's zone, the default when neither the trigger nor the configuration names one. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const OFFSET_CACHE_LIMIT = 200_000;

export class Zone {
  readonly name: string;
  readonly #format: Intl.DateTimeFormat;
  /** Offsets by minute: evaluation asks for the same minutes again and again (every event of a zone, each tick). */
  readonly #offsets = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** UTC offset in seconds (wall − utc) at an instant. */
  offset(epoch: number): number {
    const key = Math.floor(epoch / 60);
    const cached = this.#offsets.get(key);
    if (cached !== undefined) return cached;
    const parts: Record<string, number> = {};
    for (const part of this.#format.formatToParts(key * 60_000)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const wall =
      Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0) / 1000;
    const offset = wall - key * 60;
    if (this.#offsets.size >= OFFSET_CACHE_LIMIT) this.#offsets.clear();
    this.#offsets.set(key, offset);
    return offset;
  }

  wall(epoch: number): number {
    return epoch + this.offset(epoch);
  }

  parts(epoch: number): WallParts {
    return wallParts(this.wall(epoch));
  }

  /**
   * True when an earlier instant shows the same wall time: the second pass through the hour repeated when clocks go
   * back. A schedule fires on the first pass only.
   */
  isRepeat(epoch: number): boolean {
    const now = this.offset(epoch);
    const before = this.offset(epoch - DAY);
    if (before <= now) return false;
    const earlier = epoch - (before - now);
    return this.offset(earlier) === before;
  }

  /**
   * The first instant whose wall time is `wall`, or undefined when the wall time is skipped (clocks went forward).
   * Assumes at most one offset change within a day either side, true of every zone's rules.
   */
  firstInstant(wall: number): number | undefined {
    const a = this.offset(wall - SPAN);
    const b = this.offset(wall + SPAN);
    let first: number | undefined;
    for (const candidate of a === b ? [a] : [a, b]) {
      const epoch = wall - candidate;
      if (this.offset(epoch) === candidate && (first === undefined || epoch < first)) first = epoch;
    }
    return first;
  }

  /**
   * The offset in force across a whole wall day's possible instants, when it does not change there; undefined on a
   * day with a change (callers then resolve each wall time on its own).
   */
  steadyOffset(dayWall: number): number | undefined {
    const a = this.offset(dayWall - SPAN);
    const b = this.offset(dayWall + DAY + SPAN);
    return a === b ? a : undefined;
  }
}

/** One Zone per name, shared: formatters are costly to build and their offset caches pay off across events. */
export class Zones {
  readonly #zones = new Map<string, Zone>();
  readonly defaultZone: string;

  constructor(defaultZone = systemTimeZone()) {
    this.defaultZone = defaultZone;
  }

  get(name: string | undefined): Zone {
    const key = name || this.defaultZone;
    let zone = this.#zones.get(key);
    if (!zone) {
      zone = new Zone(key);
      this.#zones.set(key, zone);
    }
    return zone;
  }
}
