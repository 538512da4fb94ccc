import { createServer } from 'node:net';
import t from 'tap';
import { RedisNotFoundError, locateRedis, redisAnswers } from '../src/redis.js';
import { TEST_REDIS_URL } from '../src/testing.js';

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return `redis://127.0.0.1:${port}`;
}

t.test('locateRedis: REDIS_URL when it answers, else the local one, else one sentence saying what to do', async (t) => {
  const dead = await deadUrl();
  t.equal(await redisAnswers(TEST_REDIS_URL), true);
  t.equal(await redisAnswers(dead, 300), false);
  t.equal(await locateRedis(TEST_REDIS_URL, dead), TEST_REDIS_URL, 'a configured Redis that answers');
  t.equal(await locateRedis('', TEST_REDIS_URL), TEST_REDIS_URL, 'unset: the local Redis');
  await t.rejects(
    locateRedis(dead, TEST_REDIS_URL),
    new RedisNotFoundError(`Redis at REDIS_URL=${dead} is not answering; start it or unset REDIS_URL.`),
  );
  const error = await locateRedis('', dead).catch((e: unknown) => e);
  t.ok(error instanceof RedisNotFoundError);
  t.equal(
    (error as Error).message,
    `No Redis answers at ${dead}: start one there, or set REDIS_URL to the Redis every Shallot service of this install shares.`,
  );
});
