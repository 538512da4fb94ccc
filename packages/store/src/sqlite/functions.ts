/** SQL functions the sqlite engine registers on every connection; all deterministic but the budget check. */
import type Database from 'better-sqlite3';
import { type CalendarUnit, autoBucketKey, calendarFloor, isAutoUnit, toEpochMs } from '../dates.js';
import { StoreError } from '../errors.js';
import { words } from '../query/sql.js';
import { wildcardMatch } from '../query/wildcard.js';

export { wildcardMatch };

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
