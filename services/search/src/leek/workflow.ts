/**
 * The workflow of a root task (leek-management-and-search §5): every task of one environment sharing the root,
 * its state counts, timing, and the tree built by `parent_id`.
 */
import { LeekError } from '@shallot/core';
import type { Static } from '@sinclair/typebox';
import type { LeekWorkflowNode, LeekWorkflowResponse } from '@shallot/schemas';
import { type Doc, LEEK_EVENTS_INDEX, MAX_RESULT_WINDOW, type Query, type Store } from '@shallot/store';

type WorkflowResponse = Static<typeof LeekWorkflowResponse>;
type WorkflowNode = Static<typeof LeekWorkflowNode>;

/** Tasks read per page while collecting a tree (keyset paging by id, so trees larger than the result window work). */
const PAGE = 1000;
/** The start time is the root's first present of these (§5). */
const START_FIELDS = ['queued_at', 'received_at', 'started_at', 'timestamp'] as const;
/** Stats list the most frequent states, as a terms aggregation of default size would. */
const STATS_SIZE = 10;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Every task of the tree, by id, in pages of PAGE. */
async function treeTasks(store: Store, scope: string, where: Query[]): Promise<Doc[]> {
  const docs: Doc[] = [];
  let after: string | undefined;
  for (;;) {
    const must = after === undefined ? where : [...where, { range: { field: 'id', gt: after } }];
    const page = await store.indexes.search(LEEK_EVENTS_INDEX, scope, {
      query: { bool: { must } },
      sort: [{ field: 'id', order: 'asc' }],
      limit: Math.min(PAGE, MAX_RESULT_WINDOW),
    });
    docs.push(...page.hits);
    const last = page.hits[page.hits.length - 1];
    if (page.hits.length < PAGE || last === undefined) return docs;
    after = last.id;
  }
}

/**
 * The tree: each task under its parent when the parent is in the tree; tasks without a parent, or whose parent was
 * never captured, are roots (so no task is left out); a parent cycle is cut where it is first reached.
 */
function buildTree(root: Doc, docs: Doc[]): WorkflowNode[] {
  const all = [root, ...docs.filter((d) => d.id !== root.id)];
  // Oldest first, so siblings read in execution order.
  all.sort((a, b) => (num(a.timestamp) ?? 0) - (num(b.timestamp) ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byId = new Map(all.map((d) => [d.id, d]));
  const children = new Map<string, Doc[]>();
  const roots: Doc[] = [];
  for (const doc of all) {
    const parent = str(doc.parent_id);
    if (parent !== null && parent !== doc.id && byId.has(parent)) children.set(parent, [...(children.get(parent) ?? []), doc]);
    else roots.push(doc);
  }
  const visited = new Set<string>();
  const node = (doc: Doc): WorkflowNode => {
    visited.add(doc.id);
    const kids = (children.get(doc.id) ?? []).filter((c) => !visited.has(c.id));
    return { key: doc.id, title: str(doc.name), state: str(doc.state), children: kids.map(node) };
  };
  const tree = roots.map(node);
  // Tasks only reachable through a parent cycle.
  for (const doc of all) if (!visited.has(doc.id)) tree.push(node(doc));
  return tree;
}

export async function workflowOf(store: Store, scope: string, env: string, rootId: string): Promise<WorkflowResponse> {
  const root = await store.indexes.get(LEEK_EVENTS_INDEX, scope, rootId);
  if (root === undefined || root.kind !== 'task') throw new LeekError('appNotFound', `Task "${rootId}" does not exist`);
  const where: Query[] = [
    { term: { field: 'kind', value: 'task' } },
    { term: { field: 'app_env', value: env } },
    { term: { field: 'root_id', value: rootId } },
  ];
  const docs = await treeTasks(store, scope, where);
  if (docs.length === 0) return { workflow: null };

  const counts = new Map<string, number>();
  for (const doc of docs) {
    const state = str(doc.state);
    if (state !== null) counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const stats = [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, STATS_SIZE)
    .map(([key, doc_count]) => ({ key, doc_count }));
  const startTime = START_FIELDS.map((f) => num(root[f])).find((v) => v !== undefined) ?? null;
  const latest = docs.reduce<number | undefined>((max, d) => {
    const ts = num(d.timestamp);
    return ts === undefined ? max : max === undefined ? ts : Math.max(max, ts);
  }, undefined);
  const rootRef = { uuid: root.id, name: str(root.name), state: str(root.state) };
  return {
    start_time: startTime,
    duration: startTime === null || latest === undefined ? null : latest - startTime,
    root: rootRef,
    root_task: rootRef,
    stats,
    total: docs.length + 1,
    docs: docs.map((d) => ({ uuid: d.id, name: str(d.name), parent_id: str(d.parent_id), state: str(d.state) })),
    workflow: buildTree(root, docs),
  };
}
