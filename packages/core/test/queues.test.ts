import { Type } from '@sinclair/typebox';
import t from 'tap';
import type { QueueDefinition } from '@shallot/schemas';
import { createConsumer, createProducer } from '../src/queues.js';
import { createRedisWiring } from '../src/redis.js';
import { TEST_REDIS_URL, deleteRedisPrefix } from '../src/testing.js';
import { randomToken } from '../src/ids.js';

const Greeting = Type.Object({ to: Type.String({ minLength: 1 }), times: Type.Integer({ minimum: 1 }) });
const greetings: QueueDefinition<typeof Greeting> = { name: 'greetings', payload: Greeting };

function wiring(t: Tap) {
  const prefix = `test-${randomToken(6)}`;
  const redis = createRedisWiring(TEST_REDIS_URL, prefix);
  t.teardown(async () => {
    await redis.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });
  return redis;
}
type Tap = { teardown(fn: () => unknown): void };

t.test('queues: a typed message goes from producer to consumer', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings);
  t.teardown(() => producer.close());
  const received: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    const consumer = createConsumer(redis, greetings, async (payload) => {
      received.push(payload);
      resolve();
    });
    t.teardown(() => consumer.close());
  });
  await producer.add({ to: 'world', times: 2 });
  await done;
  t.same(received, [{ to: 'world', times: 2 }]);
});

t.test('queues: the producer refuses a payload its schema rejects', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings);
  t.teardown(() => producer.close());
  await t.rejects(producer.add({ to: '', times: 1 }), /Refusing to queue an invalid greetings message: \/to/);
  t.equal(await producer.queue.count(), 0, 'nothing was queued');
});

t.test('queues: a failing handler is retried with backoff until it succeeds', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings, { attempts: 3, backoff: { type: 'fixed', delay: 50 } });
  t.teardown(() => producer.close());
  const attempts: number[] = [];
  const finished = new Promise<void>((resolve) => {
    const consumer = createConsumer(redis, greetings, async (_payload, job) => {
      attempts.push(job.attemptsMade);
      if (attempts.length < 2) throw new Error('transient');
    });
    consumer.worker.on('completed', () => resolve());
    t.teardown(() => consumer.close());
  });
  await producer.add({ to: 'retry', times: 1 });
  await finished;
  t.same(attempts, [0, 1], 'second attempt succeeded');
});

t.test('queues: a malformed message fails once, without retries', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings, { attempts: 5, backoff: { type: 'fixed', delay: 10 } });
  t.teardown(() => producer.close());
  let handled = 0;
  const failed = new Promise<string>((resolve) => {
    const consumer = createConsumer(redis, greetings, async () => {
      handled++;
    });
    consumer.worker.on('failed', (_job, error) => resolve(error.message));
    t.teardown(() => consumer.close());
  });
  // Bypass the producer's check, as a foreign or older producer might.
  const job = await producer.queue.add('greetings', { to: 42 });
  t.match(await failed, /Invalid greetings message/);
  t.equal(handled, 0);
  const stored = await producer.queue.getJob(job.id as string);
  t.equal(stored?.attemptsMade, 1, 'not retried');
});

t.test('queues: close waits for the running job to finish', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings);
  t.teardown(() => producer.close());
  let finished = false;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const consumer = createConsumer(redis, greetings, async () => {
    started();
    await new Promise((r) => setTimeout(r, 300));
    finished = true;
  });
  await producer.add({ to: 'slow', times: 1 });
  await running;
  await consumer.close();
  t.equal(finished, true, 'the job completed before close resolved');
});

t.test('queues: close gives up on a job that outlives the shutdown timeout', async (t) => {
  const redis = wiring(t);
  const producer = createProducer(redis, greetings);
  t.teardown(() => producer.close());
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const consumer = createConsumer(
    redis,
    greetings,
    async () => {
      started();
      await new Promise((r) => setTimeout(r, 5000));
    },
    { shutdownTimeoutMs: 200 },
  );
  await producer.add({ to: 'stuck', times: 1 });
  await running;
  const begin = Date.now();
  await consumer.close();
  t.ok(Date.now() - begin < 3000, 'close returned without waiting for the stuck job');
});
