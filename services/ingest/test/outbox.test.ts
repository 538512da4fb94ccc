// Task notifications go through the outbox: written in the same transaction as the batch that caused them, relayed to
// the notify queue in write order, deleted once Redis took them, and kept while Redis is unreachable.
import { createProducer, createRedisWiring } from '@shallot/core';
import { type LeekTaskNotification, notifyQueue } from '@shallot/schemas';
import { LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, type Store } from '@shallot/store';
import t from 'tap';
import { type BatchWrite, writeBatch } from '../src/leek/ingest.js';
import { OutboxRelay } from '../src/leek/outbox-relay.js';
import { removeFromOutbox } from '../src/leek/writer.js';
import { LIFECYCLE, WATCH_ALL, ingestHarness } from './fixtures/agent.js';

const job = (id: string, batch: number): BatchWrite => ({
  target: { org: 'mono', app: 'billing', env: 'prod', scope: 'mono-billing', triggers: [WATCH_ALL] },
  valid: [{ ...LIFECYCLE[batch]?.[0], id, uuid: id, root_id: id }],
  dead: [],
  now: 1_700_000_000_000 + batch,
});

const remove = (store: Store) => (ids: readonly string[]) => removeFromOutbox(store, ids);

const TASKS = ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2'];

t.test('a batch writes its notifications to the outbox with its documents; the relay queues them in order', async (t) => {
  const h = await ingestHarness(t);
  const { store } = h.ctx;
  for (const batch of [0, 1, 2, 3]) for (const id of TASKS) await writeBatch(store, job(id, batch));
  const entries = (await store.indexes.search(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, { limit: 100, sort: [{ field: 'id', order: 'asc' }] }))
    .hits;
  t.equal(entries.length, 8, 'one per transition of each task');
  t.same(
    entries.map((e) => [(e.notification as LeekTaskNotification).data.task.uuid, (e.notification as LeekTaskNotification).data.task.state]),
    [0, 1, 2, 3].flatMap((batch) => TASKS.map((id) => [id, ['QUEUED', 'RECEIVED', 'STARTED', 'SUCCEEDED'][batch]])),
    'in write order',
  );

  // The redelivered batch changes nothing, so it notifies nothing.
  await writeBatch(store, job(TASKS[0] ?? '', 3));
  t.equal(await store.indexes.count(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE), 8);

  const producer = createProducer(h.ctx.redis, notifyQueue);
  t.teardown(() => producer.close());
  const relay = new OutboxRelay(store, remove(store), producer, h.app.log, { batch: 3 });
  t.equal(await relay.relay(), 8, 'moved in rounds of 3');
  t.equal(await relay.pending(), 0, 'deleted once queued');
  const queued = (await h.notifications()).filter((n) => TASKS.includes(n.data.task.uuid));
  t.same(
    queued.map((n) => `${n.data.task.uuid.slice(-2)} ${n.data.previous_state ?? '-'}→${n.data.task.state}`),
    entries.map((e) => {
      const n = e.notification as LeekTaskNotification;
      return `${n.data.task.uuid.slice(-2)} ${n.data.previous_state ?? '-'}→${n.data.task.state}`;
    }),
  );
});

t.test('while Redis is unreachable notifications wait in the outbox, and are relayed once it answers', async (t) => {
  const h = await ingestHarness(t);
  const { store } = h.ctx;
  for (const id of TASKS) await writeBatch(store, job(id, 0));

  // Nothing listens on the discard port: a real client that never connects (and gives up reconnecting, so the test
  // can close it).
  const away = createRedisWiring('redis://127.0.0.1:9', `outbox-${process.pid}`);
  const unreachable = createProducer(
    { ...away, connect: (options) => away.connect({ ...options, retryStrategy: () => null }) },
    notifyQueue,
  );
  unreachable.queue.on('error', () => {});
  t.teardown(async () => {
    await Promise.race([unreachable.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    await Promise.race([away.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  });
  const logged: unknown[] = [];
  const log = Object.assign(Object.create(h.app.log) as typeof h.app.log, { error: (...args: unknown[]) => logged.push(args) });
  const stuck = new OutboxRelay(store, remove(store), unreachable, log, { queueTimeoutMs: 300 });
  t.equal(await stuck.relay(), 0);
  t.equal(await stuck.relay(), 0);
  t.equal(await stuck.pending(), 2, 'nothing lost');
  t.equal(logged.length, 1, 'the outage is logged once, not per round');
  t.match(JSON.stringify(logged[0]), /wait in the outbox/);

  const producer = createProducer(h.ctx.redis, notifyQueue);
  t.teardown(() => producer.close());
  const relay = new OutboxRelay(store, remove(store), producer, h.app.log);
  t.equal(await relay.relay(), 2);
  t.equal(await relay.pending(), 0);
  t.same((await h.notifications()).map((n) => n.data.task.uuid).sort(), [...TASKS].sort());
});

t.test('through HTTP: the answer does not wait for the relay, and the relay empties the outbox (through the write thread)', async (t) => {
  const h = await ingestHarness(t);
  for (const batch of LIFECYCLE) t.equal((await h.post(batch)).statusCode, 201);
  t.equal((await h.notifications()).length, 4);
  t.equal(await h.ctx.store.indexes.count(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE), 0);
});
