// Who writes an ingest batch: the write thread (sqlite file, the default) or the request's thread. Both store and
// notify the same; batches posted together are written together, each on its own; a thread that cannot write
// answers 'unavailable' (the agent's 503, then a resend) and is started again; close() lets writes in flight finish.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LeekTaskNotification, leekScope } from '@shallot/schemas';
import {
  LEEK_DEAD_LETTERS_INDEX,
  LEEK_EVENTS_INDEX,
  LEEK_OUTBOX_INDEX,
  LEEK_OUTBOX_SCOPE,
  LEEK_SUMMARY_INDEX,
  SqliteStore,
  isStoreError,
} from '@shallot/store';
import t from 'tap';
import type { BatchWrite } from '../src/leek/ingest.js';
import { ThreadWriter, createBatchWriter } from '../src/leek/writer.js';
import { type IngestHarness, LIFECYCLE, RETRIES, WATCH_ALL, WORKER, ingestHarness } from './fixtures/agent.js';

const SCOPE = leekScope('mono', 'billing');

async function snapshot(h: IngestHarness) {
  const all = async (index: string) =>
    (await h.ctx.store.indexes.search(index, SCOPE, { limit: 100, sort: [{ field: 'id', order: 'asc' }] })).hits;
  const notifications = (await h.notifications()).map((n) => n.data);
  return {
    events: await all(LEEK_EVENTS_INDEX),
    summary: await all(LEEK_SUMMARY_INDEX),
    letters: await all(LEEK_DEAD_LETTERS_INDEX),
    notifications,
  };
}

/** The agent conversations of §10 plus one invalid document, batch after batch. */
async function converse(h: IngestHarness): Promise<void> {
  for (const batch of [...LIFECYCLE, ...RETRIES, ...WORKER, [{ id: 'x', kind: 'task' }]]) {
    const res = await h.post(batch);
    if (res.statusCode !== 201) throw new Error(`batch answered ${res.statusCode}: ${res.body}`);
  }
}

t.test('the write thread and the request thread store and notify exactly the same', async (t) => {
  const threaded = await ingestHarness(t);
  const inline = await ingestHarness(t, { ingestWriteThread: false });
  await converse(threaded);
  await converse(inline);
  const [a, b] = [await snapshot(threaded), await snapshot(inline)];
  t.equal(a.events.length, 3, 'two tasks and a worker');
  t.equal(a.notifications.length, 6);
  t.equal(a.letters.length, 1);
  t.same(a.events, b.events);
  t.same(a.summary, b.summary);
  t.same(a.notifications, b.notifications);
  t.same(
    a.letters.map(({ received_at, ...letter }) => letter),
    b.letters.map(({ received_at, ...letter }) => letter),
  );
});

t.test('the writer is the thread on a sqlite file, the request thread when turned off', async (t) => {
  const h = await ingestHarness(t);
  const store = h.ctx.store;
  t.ok(store instanceof SqliteStore);
  const threaded = createBatchWriter(store, true, h.app.log);
  const inline = createBatchWriter(store, false, h.app.log);
  t.ok(threaded instanceof ThreadWriter);
  t.notOk(inline instanceof ThreadWriter);
  await threaded.close();
  await inline.close();
});

t.test('batches posted together are all written, each with its own answer and notifications', async (t) => {
  const h = await ingestHarness(t);
  const ids = Array.from({ length: 12 }, (_, i) => `0000000${i.toString(16)}-aaaa-4bbb-8ccc-dddddddddddd`.slice(-36));
  const batchOf = (id: string, good: boolean) => [
    { ...LIFECYCLE[0]?.[0], id, uuid: id, root_id: id },
    ...(good ? [] : [{ id: `${id}-bad`, kind: 'task' }]),
  ];
  const answers = await Promise.all(ids.map((id, i) => h.post(batchOf(id, i % 3 !== 0))));
  t.same(
    answers.map((res) => [res.statusCode, res.json().success, res.json().rejected]),
    ids.map((_, i) => [201, 1, i % 3 === 0 ? 1 : 0]),
  );
  t.equal(await h.ctx.store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), ids.length);
  t.equal(await h.ctx.store.indexes.count(LEEK_DEAD_LETTERS_INDEX, SCOPE), 4);
  const notified = (await h.notifications()).map((n) => n.data.task.uuid).sort();
  t.same(notified, [...ids].sort(), 'one notification per new task');
});

const job = (id: string): BatchWrite => ({
  target: { org: 'mono', app: 'billing', env: 'prod', scope: SCOPE, triggers: [WATCH_ALL] },
  valid: [{ ...LIFECYCLE[0]?.[0], id, uuid: id, root_id: id }],
  dead: [],
  now: Date.now(),
});

t.test('a thread that cannot open its store fails the write as unavailable, and the next write tries again', async (t) => {
  const h = await ingestHarness(t);
  const notADirectory = join(t.testdir(), 'plain-file');
  writeFileSync(notADirectory, '');
  const writer = new ThreadWriter(join(notADirectory, 'shallot.db'), h.app.log);
  t.teardown(() => writer.close());
  for (const attempt of [1, 2]) {
    const error = await writer.write(job('00000000-0000-4000-8000-000000000001')).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isStoreError(error, 'unavailable'), `attempt ${attempt}: ${String(error)}`);
  }
});

t.test('close() lets the writes in flight finish; writes after it are refused', async (t) => {
  const h = await ingestHarness(t);
  const store = h.ctx.store as SqliteStore;
  const writer = new ThreadWriter(store.file, h.app.log);
  const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
  const inFlight = ids.map((id) => writer.write(job(id)));
  await writer.close();
  await Promise.all(inFlight);
  t.equal(await store.indexes.count(LEEK_EVENTS_INDEX, SCOPE), 2);
  // The harness's relay moves outbox entries to the queue: either place proves they were written with the batches.
  const outbox = await store.indexes.search(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, { limit: 10 });
  const relayed = (await h.notifications()).map((n) => n.data.task.uuid);
  const written = outbox.hits.map((entry) => (entry.notification as LeekTaskNotification).data.task.uuid);
  t.same([...new Set([...written, ...relayed])].sort(), ids, 'their notifications were written with them');
  const refused = await writer.write(job('00000000-0000-4000-8000-00000000000c')).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(isStoreError(refused, 'unavailable'));
});
