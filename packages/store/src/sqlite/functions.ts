/** SQL functions the sqlite engine registers on every connection; all deterministic. */
import type Database from 'better-sqlite3';
import { type CalendarUnit, autoBucketKey, calendarFloor, isAutoUnit, toEpochMs } from '../dates.js';
import { words } from '../query/sql.js';

const WILDCARD_CACHE_SIZE = 256;
const wildcardCache = new Map<string, RegExp>();

/** `*`/`?` with `\` escapes as an anchored RegExp. */
export function wildcardRegExp(pattern: string, caseInsensitive = false): RegExp {
  const cacheKey = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let regexp = wildcardCache.get(cacheKey);
  if (regexp === undefined) {
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] as string;
      if (c === '\\' && i + 1 < pattern.length) source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      else if (c === '*') source += '.*';
      else if (c === '?') source += '.';
      else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
    regexp = new RegExp(`^${source}$`, caseInsensitive ? 'siu' : 'su');
    if (wildcardCache.size >= WILDCARD_CACHE_SIZE) wildcardCache.clear();
    wildcardCache.set(cacheKey, regexp);
  }
  return regexp;
}

export function registerFunctions(db: Database.Database): void {
  db.function('shallot_ms', { deterministic: true }, (value: unknown) => toEpochMs(value) ?? null);
  db.function('shallot_date_bucket', { deterministic: true }, (ms: unknown, unit: unknown) =>
    typeof ms === 'number' && typeof unit === 'string' ? calendarFloor(ms, unit as CalendarUnit) : null,
  );
  // Case-insensitive wildcards on keywords (GLOB is case-sensitive); Unicode case folding as in Elasticsearch.
  db.function('shallot_wildcard_ci', { deterministic: true }, (value: unknown, pattern: unknown) =>
    typeof value === 'string' && typeof pattern === 'string' && wildcardRegExp(pattern, true).test(value) ? 1 : 0,
  );
  db.function('shallot_auto_bucket', { deterministic: true }, (ms: unknown, unit: unknown, count: unknown, anchor: unknown) =>
    typeof ms === 'number' && isAutoUnit(unit) && typeof count === 'number' && typeof anchor === 'number'
      ? autoBucketKey(ms, unit, count, anchor)
      : null,
  );
  // Wildcards on text fields test each lowercased word, as Elasticsearch tests analyzed tokens.
  db.function('shallot_wildcard_tokens', { deterministic: true }, (value: unknown, pattern: unknown) => {
    if (typeof value !== 'string' || typeof pattern !== 'string') return 0;
    const regexp = wildcardRegExp(pattern.toLowerCase());
    return words(value.toLowerCase()).some((w) => regexp.test(w)) ? 1 : 0;
  });
}
