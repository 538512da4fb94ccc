/** SQL functions the sqlite engine registers on every connection; all deterministic but the budget check. */
import type Database from 'better-sqlite3';
import { type CalendarUnit, autoBucketKey, calendarFloor, isAutoUnit, toEpochMs } from '../dates.js';
import { StoreError } from '../errors.js';
import { words } from '../query/sql.js';

/** A compiled wildcard: code points to match literally, or ANY (`?`) / STAR (`*`). */
const ANY = -1;
const STAR = -2;
type Wildcard = Int32Array;

const WILDCARD_CACHE_SIZE = 256;
const wildcardCache = new Map<string, Wildcard>();

const codePoints = (text: string): number[] => Array.from(text, (c) => c.codePointAt(0) as number);

/** `*`/`?` with `\` escapes, compiled once per pattern (runs of `*` collapse into one). */
function compileWildcard(pattern: string): Wildcard {
  let compiled = wildcardCache.get(pattern);
  if (compiled === undefined) {
    const out: number[] = [];
    const cps = codePoints(pattern);
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i] as number;
      if (c === 0x5c && i + 1 < cps.length) out.push(cps[++i] as number);
      else if (c === 0x2a) {
        if (out[out.length - 1] !== STAR) out.push(STAR);
      } else if (c === 0x3f) out.push(ANY);
      else out.push(c);
    }
    compiled = Int32Array.from(out);
    if (wildcardCache.size >= WILDCARD_CACHE_SIZE) wildcardCache.clear();
    wildcardCache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * Whether `value` matches the whole wildcard `pattern` (`*` any run, `?` one code point, `\` escapes). Greedy with a
 * single resume point (the last `*`): at most value × pattern steps, never the exponential backtracking a regex of
 * `.*` groups can take (`*?*?*?…!` froze the process for seconds).
 */
export function wildcardMatch(value: string, pattern: string, caseInsensitive = false): boolean {
  const p = compileWildcard(caseInsensitive ? pattern.toLowerCase() : pattern);
  const t = codePoints(caseInsensitive ? value.toLowerCase() : value);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < t.length) {
    const pj = j < p.length ? (p[j] as number) : undefined;
    if (pj !== undefined && pj !== STAR && (pj === ANY || pj === t[i])) {
      i++;
      j++;
    } else if (pj === STAR) {
      star = j++;
      resume = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else return false;
  }
  while (j < p.length && p[j] === STAR) j++;
  return j === p.length;
}

/**
 * The time budget of the statement running now (better-sqlite3 is synchronous: one statement at a time per thread).
 * `shallot_budget()` in a search's WHERE clause is evaluated per row visited, so a scan past its deadline stops
 * with an error instead of holding the event loop.
 */
let deadline = Number.POSITIVE_INFINITY;
let budgetMs = 0;
let calls = 0;

function checkBudget(): void {
  if ((++calls & 0xff) === 0 && performance.now() > deadline) {
    throw new StoreError(
      'invalid',
      `Search stopped after its ${budgetMs} ms budget (SHALLOT_SEARCH_BUDGET_MS): narrow it with a smaller time range, exact terms instead of wildcards, or fewer aggregations`,
    );
  }
}

/** Runs `work` (synchronous SQLite statements) with a deadline `ms` from now that `shallot_budget()` enforces. */
export function withBudget<T>(ms: number, work: () => T): T {
  const outer = deadline;
  deadline = Math.min(outer, performance.now() + ms);
  budgetMs = ms;
  calls = 0;
  try {
    return work();
  } finally {
    deadline = outer;
  }
}

export function registerFunctions(db: Database.Database): void {
  db.function('shallot_ms', { deterministic: true }, (value: unknown) => toEpochMs(value) ?? null);
  db.function('shallot_date_bucket', { deterministic: true }, (ms: unknown, unit: unknown) =>
    typeof ms === 'number' && typeof unit === 'string' ? calendarFloor(ms, unit as CalendarUnit) : null,
  );
  // Case-insensitive wildcards on keywords (GLOB is case-sensitive); Unicode case folding as in Elasticsearch.
  db.function('shallot_wildcard_ci', { deterministic: true }, (value: unknown, pattern: unknown) => {
    checkBudget();
    return typeof value === 'string' && typeof pattern === 'string' && wildcardMatch(value, pattern, true) ? 1 : 0;
  });
  db.function('shallot_auto_bucket', { deterministic: true }, (ms: unknown, unit: unknown, count: unknown, anchor: unknown) =>
    typeof ms === 'number' && isAutoUnit(unit) && typeof count === 'number' && typeof anchor === 'number'
      ? autoBucketKey(ms, unit, count, anchor)
      : null,
  );
  // Wildcards on text fields test each lowercased word, as Elasticsearch tests analyzed tokens.
  db.function('shallot_wildcard_tokens', { deterministic: true }, (value: unknown, pattern: unknown) => {
    checkBudget();
    if (typeof value !== 'string' || typeof pattern !== 'string') return 0;
    const lower = pattern.toLowerCase();
    return words(value.toLowerCase()).some((w) => wildcardMatch(w, lower)) ? 1 : 0;
  });
  db.function('shallot_budget', { deterministic: false }, () => {
    checkBudget();
    return 1;
  });
}
