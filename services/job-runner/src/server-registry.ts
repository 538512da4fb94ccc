/** This runner as a server of the platform: registered in Redis with a heartbeat that expires if it dies. */
import { randomBytes } from 'node:crypto';
import { freemem, hostname, loadavg, totalmem } from 'node:os';
import type { RedisWiring } from '@shallot/core';

export const SERVERS_KEY = 'servers';
export const serverKey = (id: string) => `server:${id}`;

export interface ServerRecord {
  id: string;
  hostname: string;
  pid: number;
  started: number;
  heartbeat: number;
  /** This process's run of the server: a job started by another instance of the same server id was lost. */
  instance: string;
  /** What server selection reads (behaviour §9.3: least_cpu, least_mem). */
  info: { cpu: { avgLoad: number }; memory: { active: number } };
  enabled?: boolean;
}

export interface ServerRegistration {
  readonly record: ServerRecord;
  /** Stops the heartbeat and removes the server from the live set. */
  stop(): Promise<void>;
}

export function serverIdFor(configured: string): string {
  return configured || hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Online servers, by their last heartbeat (epoch seconds) within `maxAgeSeconds`. */
export async function onlineServers(redis: RedisWiring, maxAgeSeconds: number): Promise<ServerRecord[]> {
  const since = Date.now() / 1000 - maxAgeSeconds;
  const ids = await redis.client.zrangebyscore(SERVERS_KEY, since, '+inf');
  if (ids.length === 0) return [];
  const values = await redis.client.mget(ids.map(serverKey));
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as ServerRecord);
}

export async function registerServer(redis: RedisWiring, id: string, intervalSeconds: number): Promise<ServerRegistration> {
  const now = () => Date.now() / 1000;
  const record: ServerRecord = {
    id,
    hostname: hostname(),
    pid: process.pid,
    started: now(),
    heartbeat: now(),
    instance: `${process.pid}.${randomBytes(6).toString('hex')}`,
    info: { cpu: { avgLoad: 0 }, memory: { active: 0 } },
  };
  const beat = async () => {
    record.heartbeat = now();
    record.info = { cpu: { avgLoad: loadavg()[0] ?? 0 }, memory: { active: totalmem() - freemem() } };
    // The key outlives three missed beats, then the server counts as gone.
    await redis.client
      .multi()
      .set(serverKey(id), JSON.stringify(record), 'EX', intervalSeconds * 3)
      .zadd(SERVERS_KEY, record.heartbeat, id)
      .exec();
  };
  await beat();
  const timer = setInterval(() => {
    beat().catch(() => {
      // Redis is briefly unreachable; the next beat retries.
    });
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    record,
    async stop() {
      clearInterval(timer);
      await redis.client.multi().del(serverKey(id)).zrem(SERVERS_KEY, id).exec();
    },
  };
}
