/** The store's typed query model: queries, sorts and aggregations as TypeBox schemas, results in Elasticsearch response shape. */
import { type Static, Type } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** A field path as declared in an IndexSpec: `state`, `meta.host`. */
export const FieldName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.]*$', maxLength: 200 });
export const TermValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export type TermValue = Static<typeof TermValue>;
/** Range bounds: numbers, strings, dates as ISO-8601 strings, epoch milliseconds or date math (`now-1h`, `now/d`). */
export const RangeValue = Type.Union([Type.String(), Type.Number()]);
export type RangeValue = Static<typeof RangeValue>;

/** A query node. Exactly one key per node, as in Elasticsearch. */
export const Query = Type.Recursive(
  (This) =>
    Type.Union([
      Type.Object(
        {
          bool: Type.Object(
            {
              must: Type.Optional(Type.Array(This)),
              should: Type.Optional(Type.Array(This)),
              must_not: Type.Optional(Type.Array(This)),
              filter: Type.Optional(Type.Array(This)),
              minimum_should_match: Type.Optional(Type.Integer({ minimum: 0 })),
            },
            strict,
          ),
        },
        strict,
      ),
      Type.Object({ term: Type.Object({ field: FieldName, value: TermValue }, strict) }, strict),
      Type.Object({ terms: Type.Object({ field: FieldName, values: Type.Array(TermValue) }, strict) }, strict),
      Type.Object(
        {
          range: Type.Object(
            {
              field: FieldName,
              gt: Type.Optional(RangeValue),
              gte: Type.Optional(RangeValue),
              lt: Type.Optional(RangeValue),
              lte: Type.Optional(RangeValue),
            },
            strict,
          ),
        },
        strict,
      ),
      /** `case_insensitive` folds case on keyword fields (text fields always match their lowercased words). */
      Type.Object(
        { prefix: Type.Object({ field: FieldName, value: Type.String(), case_insensitive: Type.Optional(Type.Boolean()) }, strict) },
        strict,
      ),
      /** `*` matches any run of characters, `?` one character; `\` escapes either. `case_insensitive` as for prefix. */
      Type.Object(
        { wildcard: Type.Object({ field: FieldName, value: Type.String(), case_insensitive: Type.Optional(Type.Boolean()) }, strict) },
        strict,
      ),
      Type.Object({ exists: Type.Object({ field: FieldName }, strict) }, strict),
      /**
       * Full text: the words of `query` ANDed or ORed (default 'or'). Without `field`, searches every text field of the index.
       * On a keyword field it is an exact match of the whole query string.
       */
      Type.Object(
        {
          match: Type.Object(
            {
              field: Type.Optional(FieldName),
              query: Type.String(),
              operator: Type.Optional(Type.Union([Type.Literal('and'), Type.Literal('or')])),
            },
            strict,
          ),
        },
        strict,
      ),
      Type.Object({ match_all: Type.Object({}, strict) }, strict),
    ]),
  { $id: 'ShallotStoreQuery' },
);
export type Query = Static<typeof Query>;

export type BoolQuery = Extract<Query, { bool: unknown }>['bool'];

export const SortSpec = Type.Object(
  {
    field: FieldName,
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')]),
    /** Where documents without the field go. @default '_last' */
    missing: Type.Optional(Type.Union([Type.Literal('_first'), Type.Literal('_last')])),
  },
  { ...strict, $id: 'ShallotStoreSortSpec' },
);
export type SortSpec = Static<typeof SortSpec>;

const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')]);

/** `{_count: 'desc'}`, `{_key: 'asc'}`, or a single-value sub-aggregation (`{total: 'desc'}`, `{s: 'desc'}` with `s.avg` for stats). */
export const TermsOrder = Type.Record(
  Type.String({ pattern: '^(_count|_key|[A-Za-z_][A-Za-z0-9_]*(\\.(count|min|max|avg|sum))?)$' }),
  SortOrder,
  {
    minProperties: 1,
    maxProperties: 1,
  },
);
export type TermsOrder = Static<typeof TermsOrder>;

const Bounds = Type.Object({ min: RangeValue, max: RangeValue }, strict);
const MetricParams = Type.Object({ field: FieldName }, strict);
/** Names of sub-aggregations (they become keys of the result). */
export const AggregationName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 100 });

export const TermsParams = Type.Object(
  {
    field: FieldName,
    /** @default 10 */
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
    /** Bucket key for documents without the field; without it they are not counted. */
    missing: Type.Optional(TermValue),
    /** @default 1 */
    min_doc_count: Type.Optional(Type.Integer({ minimum: 0 })),
    /** @default {_count: 'desc'} (ties by key ascending) */
    order: Type.Optional(TermsOrder),
  },
  strict,
);
export const DateHistogramParams = Type.Object(
  {
    field: FieldName,
    /** minute|hour|day|week|month|quarter|year or 1m|1h|1d|1w|1M|1q|1y; weeks start on Monday; all in UTC. */
    calendar_interval: Type.Optional(Type.String()),
    /** A multiple of one unit: `90s`, `15m`, `12h`, `7d`, `500ms`. */
    fixed_interval: Type.Optional(Type.String()),
    /** @default 0 (empty buckets between the first and last filled ones are returned) */
    min_doc_count: Type.Optional(Type.Integer({ minimum: 0 })),
    extended_bounds: Type.Optional(Bounds),
  },
  strict,
);
export const HistogramParams = Type.Object(
  {
    field: FieldName,
    interval: Type.Number({ exclusiveMinimum: 0 }),
    /** @default 0 */
    min_doc_count: Type.Optional(Type.Integer({ minimum: 0 })),
    extended_bounds: Type.Optional(Type.Object({ min: Type.Number(), max: Type.Number() }, strict)),
  },
  strict,
);

/** @default target bucket count of an auto_date_histogram, as in Elasticsearch */
export const AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS = 10;

/**
 * A date histogram whose interval is chosen for the data: the smallest interval of the ladder 1/5/10/30 s, 1/5/10/30 min,
 * 1/3/12 h, 1/7 d, 1/3 months, 1/5/10/20/50/100 years giving at most `buckets` buckets (as Elasticsearch's
 * auto_date_histogram). Buckets start at the first value's unit (second, minute, hour, day, month, year) and step by the
 * interval from there; empty buckets in between are returned. The result carries the chosen `interval` (`5m`, `7d`, `1M`).
 */
export const AutoDateHistogramParams = Type.Object(
  {
    field: FieldName,
    /** @default AUTO_DATE_HISTOGRAM_DEFAULT_BUCKETS */
    buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  strict,
);

/** An aggregation; bucket aggregations (terms, date_histogram, auto_date_histogram, histogram, filter) nest others under `aggs`. */
export const Aggregation = Type.Recursive(
  (This) => {
    const aggs = Type.Optional(Type.Record(AggregationName, This));
    return Type.Union([
      Type.Object({ terms: TermsParams, aggs }, strict),
      Type.Object({ date_histogram: DateHistogramParams, aggs }, strict),
      Type.Object({ auto_date_histogram: AutoDateHistogramParams, aggs }, strict),
      Type.Object({ histogram: HistogramParams, aggs }, strict),
      Type.Object({ filter: Type.Object({ query: Query }, strict), aggs }, strict),
      Type.Object({ sum: MetricParams }, strict),
      Type.Object({ avg: MetricParams }, strict),
      Type.Object({ min: MetricParams }, strict),
      Type.Object({ max: MetricParams }, strict),
      Type.Object({ stats: MetricParams }, strict),
      Type.Object({ cardinality: MetricParams }, strict),
    ]);
  },
  { $id: 'ShallotStoreAggregation' },
);
export type Aggregation = Static<typeof Aggregation>;

/** The search request's part the store validates as a whole. */
export const Aggregations = Type.Record(AggregationName, Aggregation);

export type MetricKind = 'sum' | 'avg' | 'min' | 'max' | 'cardinality';

/** One bucket: its key, its document count, and the results of its sub-aggregations by name. */
export type Bucket = {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
} & { [subAggregation: string]: AggregationResult | string | number | undefined };

export interface BucketsResult {
  buckets: Bucket[];
  /** terms only */
  sum_other_doc_count?: number;
  /** terms only; always 0 on sqlite */
  doc_count_error_upper_bound?: number;
  /** auto_date_histogram only: the interval chosen (`1s`, `5m`, `3h`, `7d`, `1M`, `10y`). */
  interval?: string;
}

/** sum/avg/min/max/cardinality; `value_as_string` for min/max of date fields. */
export interface MetricResult {
  value: number | null;
  value_as_string?: string;
}

export interface StatsResult {
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  sum: number;
}

export type FilterResult = { doc_count: number } & { [subAggregation: string]: AggregationResult | number };

/** An aggregation's result in Elasticsearch response shape. */
export type AggregationResult = BucketsResult | MetricResult | StatsResult | FilterResult;

/** Which kind an aggregation is, for switch statements. */
export type AggregationKind = 'terms' | 'date_histogram' | 'auto_date_histogram' | 'histogram' | 'filter' | 'stats' | MetricKind;

export function aggregationKind(agg: Aggregation): AggregationKind {
  if ('terms' in agg) return 'terms';
  if ('date_histogram' in agg) return 'date_histogram';
  if ('auto_date_histogram' in agg) return 'auto_date_histogram';
  if ('histogram' in agg) return 'histogram';
  if ('filter' in agg) return 'filter';
  if ('stats' in agg) return 'stats';
  if ('sum' in agg) return 'sum';
  if ('avg' in agg) return 'avg';
  if ('min' in agg) return 'min';
  if ('max' in agg) return 'max';
  return 'cardinality';
}
