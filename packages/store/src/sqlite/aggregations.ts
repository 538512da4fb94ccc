/** Aggregations on sqlite, computed in SQL (GROUP BY, metrics, bucket arithmetic) and shaped as Elasticsearch responses. */
import type Database from 'better-sqlite3';
import {
  type CalendarUnit,
  calendarFloor,
  chooseAutoInterval,
  calendarNext,
  dateBound,
  isoString,
  parseCalendarInterval,
  parseFixedInterval,
} from '../dates.js';
import { invalid } from '../errors.js';
import {
  AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS,
  type Aggregation,
  type AggregationResult,
  type Bucket,
  type BucketsResult,
  type MetricResult,
  type StatsResult,
  type TermValue,
} from '../query/ast.js';
import { MAX_BUCKETS, metricField } from '../query/check.js';
import { type Sql, type SqlCompiler, type ValueSource, and, jsonValues, normalizedJson, not, or, queryValue, sql } from '../query/sql.js';
import type { FieldType } from '../types.js';

/** A field's values as a FROM addition and an expression; `perValue` when one document may yield several rows. */
interface Values {
  from: Sql;
  expr: string;
  perValue: boolean;
}

function valuesOf(source: ValueSource, alias: string): Values {
  if (source.kind === 'column') return { from: sql(''), expr: source.column, perValue: false };
  return {
    from: sql(`, ${jsonValues(source)}(t.doc, ?) AS ${alias}`, source.path),
    expr: normalizedJson(alias, source.type),
    perValue: true,
  };
}

/** Concatenates SQL pieces, keeping parameters in textual order. */
function join(...parts: Array<Sql | string>): Sql {
  let text = '';
  const params: unknown[] = [];
  for (const part of parts) {
    if (typeof part === 'string') text += part;
    else {
      text += part.sql;
      params.push(...part.params);
    }
  }
  return { sql: text, params };
}

type Key = string | number;

interface RawBucket {
  key: Key;
  count: number;
  /** The documents of this bucket. */
  where: Sql;
}

const compareKeys = (a: Key, b: Key): number => (a < b ? -1 : a > b ? 1 : 0);

function keyFields(type: FieldType, key: Key): { key: Key; key_as_string?: string } {
  if (type === 'date' && typeof key === 'number') return { key, key_as_string: isoString(key) };
  if (type === 'boolean') return { key, key_as_string: key === 1 ? 'true' : 'false' };
  return { key };
}

export class SqliteAggregator {
  readonly #db: Database.Database;
  readonly #c: SqlCompiler;
  readonly #table: string;
  /** All documents of the scope, for terms with min_doc_count 0. */
  readonly #scopeWhere: Sql;

  constructor(db: Database.Database, compiler: SqlCompiler, table: string, scopeWhere: Sql) {
    this.#db = db;
    this.#c = compiler;
    this.#table = table;
    this.#scopeWhere = scopeWhere;
  }

  #all(query: Sql): unknown[] {
    return this.#db
      .prepare(query.sql)
      .raw()
      .all(...query.params) as unknown[];
  }

  #one(query: Sql): unknown[] {
    return (
      (this.#db
        .prepare(query.sql)
        .raw()
        .get(...query.params) as unknown[] | undefined) ?? []
    );
  }

  #count(where: Sql): number {
    return Number(this.#one(join(`SELECT COUNT(*) FROM ${this.#table} AS t WHERE `, where))[0] ?? 0);
  }

  run(aggs: Record<string, Aggregation>, where: Sql): Record<string, AggregationResult> {
    const results: Record<string, AggregationResult> = {};
    for (const [name, agg] of Object.entries(aggs)) results[name] = this.#run(agg, where);
    return results;
  }

  #run(agg: Aggregation, where: Sql): AggregationResult {
    if ('terms' in agg) return this.#terms(agg.terms, agg.aggs, where);
    if ('histogram' in agg) return this.#histogram(agg.histogram, agg.aggs, where);
    if ('date_histogram' in agg) return this.#dateHistogram(agg.date_histogram, agg.aggs, where);
    if ('auto_date_histogram' in agg) return this.#autoDateHistogram(agg.auto_date_histogram, agg.aggs, where);
    if ('filter' in agg) {
      const filtered = and(where, this.#c.where(agg.filter.query));
      return { doc_count: this.#count(filtered), ...this.#subs(agg.aggs, filtered) };
    }
    if ('stats' in agg) return this.#stats(agg.stats.field, where);
    if ('sum' in agg) return this.#metric('sum', agg.sum.field, where);
    if ('avg' in agg) return this.#metric('avg', agg.avg.field, where);
    if ('min' in agg) return this.#metric('min', agg.min.field, where);
    if ('max' in agg) return this.#metric('max', agg.max.field, where);
    return this.#metric('cardinality', metricField(agg), where);
  }

  #subs(aggs: Record<string, Aggregation> | undefined, where: Sql): Record<string, AggregationResult> {
    return aggs === undefined ? {} : this.run(aggs, where);
  }

  #metricSql(kind: 'sum' | 'avg' | 'min' | 'max' | 'cardinality', expr: string): string {
    switch (kind) {
      case 'sum':
        return `TOTAL(${expr})`;
      case 'avg':
        return `AVG(${expr})`;
      case 'min':
        return `MIN(${expr})`;
      case 'max':
        return `MAX(${expr})`;
      case 'cardinality':
        return `COUNT(DISTINCT ${expr})`;
    }
  }

  #metric(kind: 'sum' | 'avg' | 'min' | 'max' | 'cardinality', field: string, where: Sql): MetricResult {
    const source = this.#c.source(field, `${kind} aggregation`);
    const v = valuesOf(source, 'v');
    const row = this.#one(
      join(`SELECT ${this.#metricSql(kind, v.expr)} FROM ${this.#table} AS t`, v.from, ' WHERE ', where, ` AND ${v.expr} IS NOT NULL`),
    );
    const value = row[0] === null || row[0] === undefined ? null : Number(row[0]);
    return metricResult(kind, source.type, value);
  }

  #stats(field: string, where: Sql): StatsResult {
    const v = valuesOf(this.#c.source(field, 'stats aggregation'), 'v');
    const [count, min, max, avg, sum] = this.#one(
      join(
        `SELECT COUNT(${v.expr}), MIN(${v.expr}), MAX(${v.expr}), AVG(${v.expr}), TOTAL(${v.expr}) FROM ${this.#table} AS t`,
        v.from,
        ' WHERE ',
        where,
        ` AND ${v.expr} IS NOT NULL`,
      ),
    ).map((x) => (x === null || x === undefined ? null : Number(x)));
    return { count: count ?? 0, min: min ?? null, max: max ?? null, avg: avg ?? null, sum: sum ?? 0 };
  }

  #terms(
    params: Extract<Aggregation, { terms: unknown }>['terms'],
    subAggs: Record<string, Aggregation> | undefined,
    where: Sql,
  ): BucketsResult {
    const { field, size = 10, min_doc_count: minDocCount = 1, missing } = params;
    const [orderKey, orderDir] = Object.entries(params.order ?? { _count: 'desc' })[0] ?? ['_count', 'desc'];
    const source = this.#c.source(field, 'terms aggregation');
    const v = valuesOf(source, 'v');
    const countExpr = v.perValue ? 'COUNT(DISTINCT t.rowid)' : 'COUNT(*)';
    const keyWhere = (key: Key): Sql => this.#c.predicate(source, (x) => sql(`${x} = ?`, key));
    const grouped = (w: Sql): Sql =>
      join(`SELECT ${v.expr} AS k, ${countExpr} AS c FROM ${this.#table} AS t`, v.from, ' WHERE ', w, ` AND k IS NOT NULL GROUP BY k`);

    // Common case: order by count or key, no missing bucket, no zero-count buckets: SQL sorts and limits.
    if (missing === undefined && minDocCount >= 1 && (orderKey === '_count' || orderKey === '_key')) {
      const dir = orderDir === 'asc' ? 'ASC' : 'DESC';
      const orderSql = orderKey === '_count' ? `c ${dir}, k ASC` : `k ${dir}`;
      const g = grouped(where);
      const total = Number(this.#one(join('SELECT TOTAL(c) FROM (', g, ')'))[0] ?? 0);
      const rows = this.#all(join('SELECT k, c FROM (', g, `) WHERE c >= ? ORDER BY ${orderSql} LIMIT ?`, sql('', minDocCount, size)));
      const buckets = rows.map((row) => {
        const [key, count] = row as [Key, number];
        return { key, count, where: and(where, keyWhere(key)) };
      });
      return this.#termsResult(source.type, buckets, total, subAggs);
    }

    const byKey = new Map<Key, RawBucket>();
    for (const row of this.#all(grouped(where))) {
      const [key, count] = row as [Key, number];
      byKey.set(key, { key, count, where: and(where, keyWhere(key)) });
    }
    if (missing !== undefined) {
      const key = missingKey(field, source.type, missing);
      const noValue = and(where, not(this.#c.exists(source)));
      const count = this.#count(noValue);
      if (count > 0) {
        const existing = byKey.get(key);
        if (existing === undefined) byKey.set(key, { key, count, where: noValue });
        else byKey.set(key, { key, count: existing.count + count, where: or(existing.where, noValue) });
      }
    }
    if (minDocCount === 0) {
      for (const row of this.#all(grouped(this.#scopeWhere))) {
        const key = (row as [Key])[0];
        if (!byKey.has(key)) byKey.set(key, { key, count: 0, where: and(where, keyWhere(key)) });
      }
    }
    const all = [...byKey.values()];
    const total = all.reduce((n, b) => n + b.count, 0);
    const eligible = all.filter((b) => b.count >= minDocCount);
    const sign = orderDir === 'asc' ? 1 : -1;
    if (orderKey === '_count') eligible.sort((a, b) => sign * (a.count - b.count) || compareKeys(a.key, b.key));
    else if (orderKey === '_key') eligible.sort((a, b) => sign * compareKeys(a.key, b.key));
    else {
      const [subName = '', prop] = orderKey.split('.');
      const sub = subAggs?.[subName];
      if (sub === undefined) throw invalid(`terms order "${orderKey}" names no sub-aggregation`);
      const metric = new Map<RawBucket, number | null>();
      for (const b of eligible) {
        const result = this.#run(sub, b.where) as unknown as Record<string, number | null>;
        metric.set(b, (prop === undefined ? result.value : result[prop]) ?? null);
      }
      // Buckets without a metric value go last either way; ties by key ascending.
      eligible.sort((a, b) => {
        const x = metric.get(a) ?? null;
        const y = metric.get(b) ?? null;
        if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0) || compareKeys(a.key, b.key);
        return sign * (x - y) || compareKeys(a.key, b.key);
      });
    }
    return this.#termsResult(source.type, eligible.slice(0, size), total, subAggs);
  }

  #termsResult(type: FieldType, buckets: RawBucket[], total: number, subAggs: Record<string, Aggregation> | undefined): BucketsResult {
    const shown = buckets.reduce((n, b) => n + b.count, 0);
    return {
      doc_count_error_upper_bound: 0,
      sum_other_doc_count: Math.max(0, total - shown),
      buckets: buckets.map((b) => this.#bucket(type, b, subAggs)),
    };
  }

  #bucket(type: FieldType, b: RawBucket, subAggs: Record<string, Aggregation> | undefined): Bucket {
    return { ...keyFields(type, b.key), doc_count: b.count, ...this.#subs(subAggs, b.where) } as Bucket;
  }

  /**
   * Buckets by `bucketExpr` (an integer bucket number or a bucket start), counted in SQL.
   * `keys` lists the keys to return in order, given the first and last filled keys.
   */
  #grouped(source: ValueSource, bucketExpr: (value: string) => Sql, where: Sql): Map<number, number> {
    const v = valuesOf(source, 'v');
    const countExpr = v.perValue ? 'COUNT(DISTINCT t.rowid)' : 'COUNT(*)';
    const rows = this.#all(
      join(
        'SELECT ',
        bucketExpr(v.expr),
        ` AS b, ${countExpr} FROM ${this.#table} AS t`,
        v.from,
        ' WHERE ',
        where,
        ` AND ${v.expr} IS NOT NULL GROUP BY b`,
      ),
    );
    const counts = new Map<number, number>();
    for (const row of rows) {
      const [b, c] = row as [number, number];
      counts.set(Number(b), Number(c));
    }
    return counts;
  }

  #histogram(
    params: Extract<Aggregation, { histogram: unknown }>['histogram'],
    subAggs: Record<string, Aggregation> | undefined,
    where: Sql,
  ): BucketsResult {
    const { field, interval, min_doc_count: minDocCount = 0, extended_bounds: bounds } = params;
    const source = this.#c.source(field, 'histogram aggregation');
    const bucketOf = (x: string): Sql => sql(`floor(${x} / ?)`, interval);
    const counts = this.#grouped(source, bucketOf, where);
    const indexes = fillRange(
      [...counts.keys()],
      minDocCount,
      bounds && [Math.floor(bounds.min / interval), Math.floor(bounds.max / interval)],
      (i) => i + 1,
    );
    const buckets = indexes
      .map((i) => ({ i, count: counts.get(i) ?? 0 }))
      .filter((b) => b.count >= minDocCount)
      .map(({ i, count }) => {
        const bucketWhere = and(
          where,
          this.#c.predicate(source, (x) => join(bucketOf(x), sql(' = ?', i))),
        );
        return this.#bucket('number', { key: i * interval, count, where: bucketWhere }, subAggs);
      });
    return { buckets };
  }

  #dateHistogram(
    params: Extract<Aggregation, { date_histogram: unknown }>['date_histogram'],
    subAggs: Record<string, Aggregation> | undefined,
    where: Sql,
  ): BucketsResult {
    const { field, min_doc_count: minDocCount = 0, extended_bounds: bounds } = params;
    const source = this.#c.source(field, 'date_histogram aggregation');
    let bucketOf: (x: string) => Sql;
    let floorKey: (ms: number) => number;
    let next: (key: number) => number;
    if (params.fixed_interval !== undefined) {
      const interval = parseFixedInterval(params.fixed_interval);
      bucketOf = (x) => sql(`floor(${x} / ?) * ?`, interval, interval);
      floorKey = (ms) => Math.floor(ms / interval) * interval;
      next = (key) => key + interval;
    } else {
      const unit: CalendarUnit = parseCalendarInterval(params.calendar_interval ?? '');
      bucketOf = (x) => sql(`shallot_date_bucket(${x}, ?)`, unit);
      floorKey = (ms) => calendarFloor(ms, unit);
      next = (key) => calendarNext(key, unit);
    }
    const counts = this.#grouped(source, bucketOf, where);
    const extended: [number, number] | undefined = bounds && [
      floorKey(dateBound(bounds.min, field, false)),
      floorKey(dateBound(bounds.max, field, true)),
    ];
    const keys = fillRange([...counts.keys()], minDocCount, extended, next);
    const buckets = keys
      .map((key) => ({ key, count: counts.get(key) ?? 0 }))
      .filter((b) => b.count >= minDocCount)
      .map(({ key, count }) => {
        const bucketWhere = and(
          where,
          this.#c.predicate(source, (x) => join(bucketOf(x), sql(' = ?', key))),
        );
        return this.#bucket('date', { key, count, where: bucketWhere }, subAggs);
      });
    return { buckets };
  }

  /** Two passes: the field's range picks the interval (dates.chooseAutoInterval), then documents are counted per bucket. */
  #autoDateHistogram(
    params: Extract<Aggregation, { auto_date_histogram: unknown }>['auto_date_histogram'],
    subAggs: Record<string, Aggregation> | undefined,
    where: Sql,
  ): BucketsResult {
    const { field, buckets: target = AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS } = params;
    const source = this.#c.source(field, 'auto_date_histogram aggregation');
    const v = valuesOf(source, 'v');
    const [min, max] = this.#one(
      join(`SELECT MIN(${v.expr}), MAX(${v.expr}) FROM ${this.#table} AS t`, v.from, ' WHERE ', where, ` AND ${v.expr} IS NOT NULL`),
    );
    if (typeof min !== 'number' || typeof max !== 'number') return { buckets: [], interval: '1s' };
    const bucketing = chooseAutoInterval(min, max, target);
    const bucketOf = (x: string): Sql => sql(`shallot_auto_bucket(${x}, ?, ?, ?)`, bucketing.unit, bucketing.count, bucketing.anchor);
    const counts = this.#grouped(source, bucketOf, where);
    const buckets: Bucket[] = [];
    for (let key = bucketing.anchor, i = 0; i < bucketing.buckets; key = bucketing.next(key), i++) {
      const count = counts.get(key) ?? 0;
      const bucketWhere = and(
        where,
        this.#c.predicate(source, (x) => join(bucketOf(x), sql(' = ?', key))),
      );
      buckets.push(this.#bucket('date', { key, count, where: bucketWhere }, subAggs));
    }
    return { buckets, interval: bucketing.interval };
  }
}

/**
 * The keys a histogram returns, ascending: the filled ones, and with min_doc_count 0 every key between
 * the first and last (widened by extended bounds), stepping with `next`.
 */
function fillRange(filled: number[], minDocCount: number, extended: [number, number] | undefined, next: (key: number) => number): number[] {
  const sorted = [...filled].sort((a, b) => a - b);
  if (minDocCount > 0) return sorted;
  let first = sorted[0];
  let last = sorted[sorted.length - 1];
  if (extended !== undefined) {
    first = first === undefined ? extended[0] : Math.min(first, extended[0]);
    last = last === undefined ? extended[1] : Math.max(last, extended[1]);
  }
  if (first === undefined || last === undefined) return [];
  const keys: number[] = [];
  for (let key = first; key <= last; key = next(key)) {
    keys.push(key);
    if (keys.length > MAX_BUCKETS)
      throw invalid(`the histogram would return more than ${MAX_BUCKETS} buckets: use a larger interval or narrower bounds`);
  }
  return keys;
}

function missingKey(field: string, type: FieldType, missing: TermValue): Key {
  return queryValue(field, type, missing);
}

function metricResult(kind: string, type: FieldType, value: number | null): MetricResult {
  if (kind === 'sum') return { value: value ?? 0 };
  if (kind === 'cardinality') return { value: value ?? 0 };
  if (type === 'date' && value !== null) return { value, value_as_string: isoString(value) };
  return { value };
}
