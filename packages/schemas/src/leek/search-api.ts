/**
 * `/v1/search*` (leek-management-and-search §5–§7): the task monitor's read side. Every call needs a session or an
 * API key of the org and names the app in `x-leek-app-name`; the index and scope always come from the caller's org
 * and that app, never from the request. Bodies are Elasticsearch query DSL restricted to the subset of §7.8 (anything
 * else is a 400 naming the clause); answers are Elasticsearch search responses on every storage engine.
 */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';

/** URL `size` and `from_` (§5): integers 0–100 000; they override the body's `size` and `from`. */
export const LEEK_SEARCH_MAX_PAGE_PARAM = 100_000;

/** The request body: an Elasticsearch search (checked by the search service, which names any unsupported clause). */
export const LeekSearchBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Elasticsearch search body: query (bool must/should/must_not/filter, match, term, terms, ids, range, prefix, wildcard, exists, match_all), aggs (terms, auto_date_histogram, date_histogram, histogram, filter, filters, avg, sum, min, max, stats, cardinality), sort, _source. URL size/from_ override size/from.',
});

const Score = Type.Union([Type.Number(), Type.Null()]);

export const LeekSearchHit = Type.Object(
  {
    _index: Type.String(),
    _id: Type.String({ description: 'Task uuid or worker hostname' }),
    _score: Score,
    _source: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The stored task or worker document' })),
  },
  { additionalProperties: true },
);

export const LeekSearchResponse = Type.Object(
  {
    took: Type.Integer({ description: 'Milliseconds' }),
    timed_out: Type.Boolean(),
    _shards: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    hits: Type.Object(
      {
        total: Type.Object({ value: Type.Integer(), relation: Type.String({ description: '"eq": totals are exact' }) }),
        max_score: Score,
        hits: Type.Array(LeekSearchHit),
      },
      { additionalProperties: true },
    ),
    aggregations: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'By name: {buckets: [{key, key_as_string?, doc_count, …sub-aggregations}], sum_other_doc_count?} or {value}',
      }),
    ),
  },
  { additionalProperties: true },
);

export const leekSearch = defineApi({
  name: 'leek_search',
  namespace: 'leek',
  path: '/v1/search',
  methods: ['POST'],
  service: 'search',
  privilege: 'any',
  summary: 'Search and aggregate the task and worker documents of an application (query string: size, from_)',
  params: LeekSearchBody,
  response: LeekSearchResponse,
});

export const leekSearchSummary = defineApi({
  name: 'leek_search_summary',
  namespace: 'leek',
  path: '/v1/search/summary',
  methods: ['POST'],
  service: 'search',
  privilege: 'any',
  summary: 'Search the summary of an application: one row per environment and task name (query string: size, from_)',
  params: LeekSearchBody,
  response: LeekSearchResponse,
});

const TaskRef = Type.Object({
  uuid: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.String(), Type.Null()]),
});

export const LeekWorkflowNode = Type.Object({
  key: Type.String({ description: 'Task uuid' }),
  title: Type.Union([Type.String(), Type.Null()], { description: 'Task name' }),
  state: Type.Union([Type.String(), Type.Null()]),
  children: Type.Array(Type.Unknown(), { description: 'Nodes of the same shape' }),
});

export const LeekWorkflowResponse = Type.Object({
  workflow: Type.Union([Type.Null(), Type.Array(LeekWorkflowNode)], { description: 'The task tree; null when no task has this root' }),
  start_time: Type.Optional(
    Type.Union([Type.Number(), Type.Null()], { description: 'The root’s first of queued_at, received_at, started_at, timestamp (ms)' }),
  ),
  duration: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Latest timestamp of the tree minus start_time (ms)' })),
  root: Type.Optional(TaskRef),
  root_task: Type.Optional(TaskRef),
  stats: Type.Optional(
    Type.Array(Type.Object({ key: Type.String(), doc_count: Type.Integer() }), { description: 'Tasks per state, top 10' }),
  ),
  total: Type.Optional(Type.Integer({ description: 'Tasks of the tree, root included' })),
  docs: Type.Optional(
    Type.Array(
      Type.Object({
        uuid: Type.String(),
        name: Type.Union([Type.String(), Type.Null()]),
        parent_id: Type.Union([Type.String(), Type.Null()]),
        state: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  ),
});

export const leekSearchWorkflow = defineApi({
  name: 'leek_search_workflow',
  namespace: 'leek',
  path: '/v1/search/workflow',
  methods: ['GET'],
  service: 'search',
  privilege: 'any',
  summary: 'The task tree of a root task in one environment (header x-leek-app-env)',
  params: Type.Object({ root_id: Type.String({ minLength: 1, maxLength: 512, description: 'uuid of the root task' }) }),
  response: LeekWorkflowResponse,
});

export const LEEK_SEARCH_API = [leekSearch, leekSearchSummary, leekSearchWorkflow] as const;
