// Poison ingest batches (issue 8, finding 4): elements nested thousands of levels deep, valid or not, are refused
// by depth before anything recursive runs, dead-lettered truncated, and the batch's valid documents are stored (201).
import { LEEK_DEAD_LETTERS_INDEX, LEEK_EVENTS_INDEX } from '@shallot/store';
import { leekScope } from '@shallot/schemas';
import t from 'tap';
import type { BatchWrite } from '../src/leek/ingest.js';
import { ThreadWriter } from '../src/leek/writer.js';
import { LIFECYCLE, TASK_ID, WATCH_ALL, agentHeaders, ingestHarness } from './fixtures/agent.js';

const SCOPE = leekScope('mono', 'billing');

/** The same depth as JSON text: what an agent sends (JSON.stringify itself would overflow the stack at 10,000). */
const nestedJson = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

t.test('deeply nested elements are dead-lettered truncated; the valid documents of the batch are stored', async (t) => {
  const h = await ingestHarness(t);
  const good = LIFECYCLE[0]?.[0] as Record<string, unknown>;
  const other = { ...good, id: 'b0b0b0b0-0000-4000-8000-000000000001', uuid: 'b0b0b0b0-0000-4000-8000-000000000001' };
  const unknownDeep = { ...other, id: 'deep-unknown', uuid: 'deep-unknown', extra: '__DEEP4000__' };
  const refusedDeep = { kind: 'beetle', id: 'deep-refused', junk: '__DEEP1000__' };
  const invalidDeep = { ...good, id: 'deep-invalid', uuid: 'deep-invalid', state: '__DEEP10000__' };
  const text = JSON.stringify([good, unknownDeep, refusedDeep, invalidDeep, other])
    .replace('"__DEEP4000__"', nestedJson(4000))
    .replace('"__DEEP1000__"', nestedJson(1000))
    .replace('"__DEEP10000__"', nestedJson(10_000));
  const post = () =>
    h.app.inject({
      method: 'POST',
      url: '/v1/events/process',
      headers: { ...agentHeaders(h.agent), 'content-type': 'application/json' },
      payload: text,
    });
  const res = await post();
  t.equal(res.statusCode, 201, res.body.slice(0, 300));
  const body = res.json();
  t.equal(body.success, 2);
  t.equal(body.rejected, 3);
  t.same(
    body.errors.map((e: { index: number; reason: string }) => e.index),
    [1, 2, 3],
  );
  for (const e of body.errors) t.match(e.reason, /nests deeper than 32 levels/);
  t.ok(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, TASK_ID), 'the first valid document is stored');
  t.ok(await h.ctx.store.indexes.get(LEEK_EVENTS_INDEX, SCOPE, other.id), 'the last valid document is stored');
  const letters = await h.ctx.store.indexes.search(LEEK_DEAD_LETTERS_INDEX, SCOPE, { sort: [{ field: 'index', order: 'asc' }], limit: 10 });
  t.equal(letters.total, 3);
  t.match(letters.hits[0], { doc_id: 'deep-unknown', document: { id: 'deep-unknown', extra: { a: { a: { a: '[truncated]' } } } } });
  t.match(letters.hits[1], { doc_id: 'deep-refused', kind: 'beetle' });
  const again = await post();
  t.equal(again.statusCode, 201, 'a redelivery answers the same');
  t.equal((await h.ctx.store.indexes.search(LEEK_DEAD_LETTERS_INDEX, SCOPE, { limit: 0 })).total, 3, 'and adds no dead letters');
});

t.test('elements over the size limits are refused by size, without walking further', async (t) => {
  const h = await ingestHarness(t);
  const good = LIFECYCLE[0]?.[0] as Record<string, unknown>;
  const wide = { ...good, id: 'wide', uuid: 'wide', extra: Array.from({ length: 30_000 }, (_, i) => i) };
  const res = await h.post([wide, good]);
  t.equal(res.statusCode, 201);
  t.match(res.json(), { success: 1, rejected: 1, errors: [{ index: 0, reason: /more than 20000 values/ }] });
});

t.test('a write the thread cannot receive fails without leaving a pending entry behind', async (t) => {
  const h = await ingestHarness(t);
  const writer = new ThreadWriter(`${h.ctx.config.dataDir}/shallot.db`, h.app.log);
  t.teardown(() => writer.close());
  const job: BatchWrite = {
    target: { org: 'mono', app: 'billing', env: 'prod', scope: SCOPE, triggers: [WATCH_ALL] },
    // A function cannot be structured-cloned: postMessage throws before the thread sees the write.
    valid: [{ id: 'x', uuid: 'x', kind: 'task', bad: () => 1 } as never],
    dead: [],
    now: Date.now(),
  };
  for (let i = 0; i < 5; i++) await t.rejects(writer.write(job));
  t.equal(writer.pendingCount, 0, 'no pending entry per failure');
});
