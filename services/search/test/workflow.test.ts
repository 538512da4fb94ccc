// GET /v1/search/workflow (leek-management-and-search §5): the task tree of a root in one environment.
import { LEEK_EVENTS_INDEX, type Store } from '@shallot/store';
import { leekScope } from '@shallot/schemas';
import t from 'tap';
import { workflowOf } from '../src/leek/workflow.js';
import { T, at, world } from './fixtures/world.js';

const w = await world(t);

t.test('the tree of charge1: receipt5 → report6 and report7, with stats, timing and counts', async (t) => {
  const res = await w.workflow(T.charge1, 'prod');
  t.equal(res.statusCode, 200);
  const body = res.json();
  const root = { uuid: T.charge1, name: 'billing.tasks.charge_invoice', state: 'SUCCEEDED' };
  t.same(body.root, root);
  t.same(body.root_task, root);
  t.equal(body.start_time, at(0), 'the root’s queued_at');
  t.equal(body.duration, at(6, 1) - at(0), 'latest timestamp of the tree (report7, +6:01) minus the start');
  t.equal(body.total, 4, 'three tasks plus the root');
  t.same(body.stats, [
    { key: 'REVOKED', doc_count: 1 },
    { key: 'STARTED', doc_count: 1 },
    { key: 'SUCCEEDED', doc_count: 1 },
  ]);
  t.same(
    body.docs.map((d: { uuid: string }) => d).sort((a: { uuid: string }, b: { uuid: string }) => (a.uuid < b.uuid ? -1 : 1)),
    [
      { uuid: T.receipt5, name: 'mail.tasks.send_receipt', parent_id: T.charge1, state: 'SUCCEEDED' },
      { uuid: T.report6, name: 'reports.tasks.build_report', parent_id: T.receipt5, state: 'STARTED' },
      { uuid: T.report7, name: 'reports.tasks.build_report', parent_id: T.charge1, state: 'REVOKED' },
    ],
  );
  t.same(body.workflow, [
    {
      key: T.charge1,
      title: 'billing.tasks.charge_invoice',
      state: 'SUCCEEDED',
      children: [
        {
          key: T.receipt5,
          title: 'mail.tasks.send_receipt',
          state: 'SUCCEEDED',
          children: [{ key: T.report6, title: 'reports.tasks.build_report', state: 'STARTED', children: [] }],
        },
        { key: T.report7, title: 'reports.tasks.build_report', state: 'REVOKED', children: [] },
      ],
    },
  ]);
});

t.test('no task of that root in the environment: workflow null', async (t) => {
  const res = await w.workflow(T.charge1, 'staging');
  t.equal(res.statusCode, 200);
  t.same(res.json(), { workflow: null });
  t.same((await w.workflow(T.charge2, 'prod')).json(), { workflow: null }, 'a task that is no root');
});

t.test('errors: unknown root 404, a worker id is no task, missing or invalid env and root_id 400', async (t) => {
  const unknown = await w.workflow('nope', 'prod');
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().error.code, 404001);
  t.match(unknown.json().error.reason, /Task "nope" does not exist/);
  t.equal((await w.workflow('celery@w-a', 'prod')).statusCode, 404);
  const noEnv = await w.workflow(T.charge1, null);
  t.equal(noEnv.statusCode, 400);
  t.equal(noEnv.json().error.code, 400001);
  const badEnv = await w.workflow(T.charge1, 'Prod');
  t.equal(badEnv.statusCode, 400);
  t.equal(badEnv.json().error.code, 400002);
  const noRoot = await w.workflow(undefined, 'prod');
  t.equal(noRoot.statusCode, 400);
  t.equal(noRoot.json().error.code, 400002);
  const stranger = await w.workflow(T.charge1, 'prod', w.beta);
  t.equal(stranger.statusCode, 200, 'beta.io reads its own billing');
  t.notOk(JSON.stringify(stranger.json()).includes('charge_invoice'), 'and sees none of acme.io’s tasks');
});

t.test('trees larger than one page, orphans and parent cycles (domain function)', async (t) => {
  const store: Store = w.ctx.store;
  const scope = leekScope('acme.io', 'wide');
  const task = (id: string, fields: Record<string, unknown>) => ({
    id,
    uuid: id,
    kind: 'task',
    app_env: 'prod',
    state: 'SUCCEEDED',
    ...fields,
  });
  await store.indexes.bulkUpsert(LEEK_EVENTS_INDEX, scope, [task('root', { name: 'r', timestamp: 1, queued_at: 1 })]);
  // 1500 children straight in the store: more than one page of the collector.
  const children = Array.from({ length: 1500 }, (_, i) =>
    task(`c${String(i).padStart(4, '0')}`, { root_id: 'root', parent_id: 'root', timestamp: 10 + i, events: ['SUCCEEDED'] }),
  );
  const odd = [
    task('orphan', { root_id: 'root', parent_id: 'never-seen', timestamp: 5000 }),
    task('loop-a', { root_id: 'root', parent_id: 'loop-b', timestamp: 5001 }),
    task('loop-b', { root_id: 'root', parent_id: 'loop-a', timestamp: 5002 }),
  ];
  await store.indexes.bulkUpsert(LEEK_EVENTS_INDEX, scope, [...children, ...odd]);
  const flow = await workflowOf(store, scope, 'prod', 'root');
  t.equal(flow.total, 1504);
  t.equal(flow.docs?.length, 1503);
  t.equal(flow.duration, 5002 - 1);
  const tree = flow.workflow ?? [];
  t.same(
    tree.map((n) => n.key),
    ['root', 'orphan', 'loop-a'],
    'orphans become roots; a cycle is entered at its oldest task',
  );
  t.equal(tree[0]?.children.length, 1500);
  t.same(tree[2]?.children, [{ key: 'loop-b', title: null, state: 'SUCCEEDED', children: [] }], 'the cycle is cut');
});
