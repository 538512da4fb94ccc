/**
 * The dispatcher (behaviour §9.2 ready/queued, §9.3): every job-runner consumes the shared dispatch queue; for each
 * job it applies the concurrency and queue limits, chooses a server and moves the job to that server's own run queue.
 * A sweep (one runner at a time, by a short Redis lease) re-dispatches ready, queued and delayed jobs, aborts jobs
 * whose abort was requested before they started, and completes as "server lost" the jobs whose server stopped
 * beating (or restarted as another instance).
 */
import { randomBytes } from 'node:crypto';
import {
  type Consumer,
  type JobRecord,
  type Producer,
  abortRequested,
  createConsumer,
  createProducer,
  getActiveJob,
  listActiveJobs,
  readEventState,
  saveActiveJob,
} from '@shallot/core';
import { type RunPayload, dispatchQueue, runQueue } from '@shallot/schemas';
import type { FastifyBaseLogger } from 'fastify';
import type { ActionDeps } from '../actions/index.js';
import { finishJob } from '../jobs/finish.js';
import { type ServerRecord, onlineServers } from '../server-registry.js';
import { type GroupDef, candidates, pickServer, serverGroups } from './select.js';

/** How often the sweep runs. @default 1000 ms */
export const SWEEP_INTERVAL_MS = 1000;
/** A ready job older than this without a server is re-dispatched (its message may have been lost). */
const READY_GRACE_SECONDS = 2;
const LOCK_MS = 5000;
const WAITING = new Set(['ready', 'queued', 'retry_delay', 'start_delay']);
const RUNNING = new Set(['starting', 'active', 'finishing']);

export interface DispatcherOptions {
  deps: ActionDeps;
  heartbeatSeconds: number;
  log: FastifyBaseLogger;
  concurrency?: number;
}

type Limit = Record<string, unknown>;
const limitOf = (job: JobRecord, type: string): Limit | undefined =>
  ((job.limits as Limit[] | undefined) ?? []).find((l) => l && l.type === type && l.enabled === true);

export class Dispatcher {
  private readonly runProducers = new Map<string, Producer<RunPayload>>();
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly token = randomBytes(8).toString('hex');

  constructor(private readonly options: DispatcherOptions) {}

  private get redis() {
    return this.options.deps.redis;
  }

  start(): void {
    this.consumer = createConsumer(this.redis, dispatchQueue, async ({ job_id }) => this.dispatch(job_id), {
      concurrency: this.options.concurrency ?? 8,
    });
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err) => this.options.log.warn({ err }, 'dispatch sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await this.consumer?.close();
    await Promise.all([...this.runProducers.values()].map((p) => p.close()));
  }

  private runProducer(serverId: string): Producer<RunPayload> {
    let producer = this.runProducers.get(serverId);
    if (!producer) {
      producer = createProducer(this.redis, runQueue(serverId), { attempts: 1, removeOnComplete: true, removeOnFail: { count: 1000 } });
      this.runProducers.set(serverId, producer);
    }
    return producer;
  }

  /** Serialises decisions per event, so concurrency counts are not raced by another dispatcher. */
  private async withEventLock<T>(event: string, work: () => Promise<T>): Promise<T> {
    const key = `dispatch_lock:${event}`;
    for (let attempt = 0; ; attempt++) {
      const got = await this.redis.client.set(key, this.token, 'PX', LOCK_MS, 'NX');
      if (got === 'OK') break;
      if (attempt > 250) throw new Error(`dispatch lock for event ${event} is held too long`);
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      return await work();
    } finally {
      if ((await this.redis.client.get(key)) === this.token) await this.redis.client.del(key);
    }
  }

  private finish(job: JobRecord, code: unknown, description: string, retryAllowed = false) {
    return finishJob(this.options.deps, job, { code, description, retryAllowed });
  }

  /** One dispatch decision for a waiting job. */
  async dispatch(id: string): Promise<void> {
    const peek = await getActiveJob(this.redis, id);
    if (!peek) return;
    // Only concurrency and queue limits need a consistent count of the event's jobs; other jobs go straight through.
    const counted = !!limitOf(peek, 'job') || !!limitOf(peek, 'queue') || peek.state === 'queued';
    const decide = counted
      ? (work: () => Promise<void>) => this.withEventLock(String(peek.event ?? ''), work)
      : (work: () => Promise<void>) => work();
    await decide(async () => {
      const job = await getActiveJob(this.redis, id);
      if (!job || !WAITING.has(String(job.state))) return;
      const now = Date.now() / 1000;
      const abort = await abortRequested(this.redis, id);
      if (abort) return void (await this.finish(job, 'abort', abort));
      if (typeof job.until === 'number' && job.until > now) return;

      const algo = String(job.algo ?? 'random');
      const all = counted || algo === 'fewest_jobs' ? await listActiveJobs(this.redis) : [];
      const running = all.filter((j) => RUNNING.has(String(j.state)));
      const jobLimit = limitOf(job, 'job');
      const queueLimit = limitOf(job, 'queue');
      const queued = all.filter((j) => j.event === job.event && j.state === 'queued' && j.id !== job.id);
      const toQueue = async (why: string) => {
        if (job.state === 'queued') return true;
        if (queueLimit && Number(queueLimit.amount) > 0) {
          if (queued.length >= Number(queueLimit.amount)) {
            await this.finish(job, 'abort', `${why}, and the queue is maxed out (${queued.length} queued).`);
            return true;
          }
          job.state = 'queued';
          job.position = job.priority ? 0 : queued.length + 1;
          job.updated = now;
          await saveActiveJob(this.redis, job);
          return true;
        }
        return false;
      };

      // Concurrency (§9.2 ready, check 1): the oldest queued job of the event goes first (priority jobs before).
      if (jobLimit) {
        const similar = running.filter((j) => j.event === job.event).length;
        if (similar >= Number(jobLimit.amount)) {
          if (!(await toQueue('Maximum number of concurrent jobs for event has been reached'))) {
            await this.finish(job, 'abort', 'Maximum number of concurrent jobs for event has been reached.');
          }
          return;
        }
      }
      if (job.state !== 'queued' && queued.length > 0 && !job.priority) {
        // Waiting jobs keep their order: a newcomer queues behind them.
        if (await toQueue('Jobs of this event are already queued')) return;
      }

      const { store } = this.options.deps.ctx;
      const event = await store.collections.get('events', String(job.event));
      if (!event && job.event) return void (await this.finish(job, 'error', 'Event was deleted before the job could start.'));
      if (event && event.enabled !== true && !job.test) return void (await this.finish(job, 'error', 'Event is disabled.'));

      const online = await onlineServers(this.redis, this.options.heartbeatSeconds * 3);
      const { rows: groupRows } = await store.collections.list('groups', { limit: 1000 });
      const groups = groupRows as unknown as GroupDef[];
      if (algo.startsWith('monitor:'))
        return void (await this.finish(job, 'error', `Server selection by monitor is not available (${algo}).`));
      let list: ServerRecord[];
      try {
        list = candidates((job.targets as string[]) ?? [], online, groups, typeof job.expression === 'string' ? job.expression : undefined);
      } catch (error) {
        return void (await this.finish(job, 'error', `Target expression failed: ${(error as Error).message}`));
      }
      const jobCounts = new Map<string, number>();
      for (const j of running) if (typeof j.server === 'string') jobCounts.set(j.server, (jobCounts.get(j.server) ?? 0) + 1);
      const state = algo === 'round_robin' ? await readEventState(this.redis, String(job.event)) : {};
      const server = pickServer(list, algo, { robin: Number(state.robin ?? 0), jobCounts });
      if (!server) {
        if (!(await toQueue('No available servers matching targets'))) {
          await this.finish(job, 'error', 'No available servers matching targets.', true);
        }
        return;
      }
      if (algo === 'round_robin') {
        await this.redis.client.hset(`event_state:${String(job.event)}`, 'robin', String((Number(state.robin ?? 0) + 1) % list.length));
      }
      job.server = server.id;
      job.groups = serverGroups(server, groups);
      job.state = 'starting';
      job.updated = now;
      delete job.position;
      await saveActiveJob(this.redis, job);
      await this.runProducer(server.id).add({ job_id: job.id, event: String(job.event ?? '') }, { jobId: job.id });
    });
  }

  /** One pass over the active set (by whichever runner holds the lease). */
  async sweep(): Promise<void> {
    const lease = await this.redis.client.set('dispatch_sweep', this.token, 'PX', SWEEP_INTERVAL_MS - 100, 'NX');
    if (lease !== 'OK') return;
    const now = Date.now() / 1000;
    const jobs = await listActiveJobs(this.redis);
    const online = new Map((await onlineServers(this.redis, this.options.heartbeatSeconds * 3)).map((s) => [s.id, s]));
    const waitingEvents = new Set<string>();
    for (const job of jobs) {
      const state = String(job.state);
      if (WAITING.has(state)) {
        const due = typeof job.until !== 'number' || job.until <= now;
        const stale = state !== 'ready' || now - Number(job.updated ?? job.started ?? 0) > READY_GRACE_SECONDS;
        const aborted = await abortRequested(this.redis, job.id);
        // Queued jobs of one event are tried oldest first, one per pass (§9.2 queued).
        if (state === 'queued') {
          if (waitingEvents.has(String(job.event)) && !aborted) continue;
          waitingEvents.add(String(job.event));
        }
        if ((due && stale) || aborted)
          await this.dispatch(job.id).catch((err) => this.options.log.warn({ err, job: job.id }, 'dispatch failed'));
        continue;
      }
      if (RUNNING.has(state) && typeof job.server === 'string') {
        const server = online.get(job.server);
        const lost = !server || (state !== 'starting' && typeof job.instance === 'string' && job.instance !== server.instance);
        if (lost) {
          const current = await getActiveJob(this.redis, job.id);
          if (current && RUNNING.has(String(current.state))) {
            this.options.log.warn({ job: job.id, server: job.server }, 'job lost with its server');
            await this.finish(current, 'abort', `Server lost: ${job.server} stopped responding while the job was running.`, true);
          }
        }
      }
    }
  }
}
