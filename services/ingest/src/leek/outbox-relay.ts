/**
 * Moves task notifications from the outbox (written with the ingest write that caused them) to the `notify` queue,
 * in write order (outbox ids sort so), and deletes them once Redis has taken them. Off the request path: an agent's 201 never waits for
 * Redis, and while Redis is away notifications wait in the store instead of being lost.
 *
 * Each entry is queued with its outbox id as job id, and deliveries are deduplicated downstream (job-runner), so an
 * entry queued twice — two ingest processes relaying at once, or a crash between queueing and deleting — still sends
 * one message.
 */
import { type Producer, within } from '@shallot/core';
import type { LeekTaskNotification, NotifyPayload } from '@shallot/schemas';
import { notifyQueue } from '@shallot/schemas';
import { LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, type Store } from '@shallot/store';
import type { FastifyBaseLogger } from 'fastify';

/** @default entries moved per round trip */
export const RELAY_BATCH = 500;
/** @default how often the outbox is looked at without a wake-up (entries of other processes, leftovers after a restart), ms */
export const RELAY_INTERVAL_MS = 1000;
/** @default how long Redis may take to accept one round trip before the relay tries again later, ms */
export const RELAY_QUEUE_TIMEOUT_MS = 5000;

export interface RelayOptions {
  batch?: number;
  intervalMs?: number;
  queueTimeoutMs?: number;
}

/** Deletes relayed entries (the ingest writer's `removeFromOutbox`, so that all writes go through the writer). */
export type RemoveEntries = (ids: readonly string[]) => Promise<void>;

export class OutboxRelay {
  readonly #store: Store;
  readonly #remove: RemoveEntries;
  readonly #producer: Producer<NotifyPayload>;
  readonly #log: FastifyBaseLogger;
  readonly #batch: number;
  readonly #intervalMs: number;
  readonly #queueTimeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Redis refused or timed out since the last success: logged once per outage. */
  #failing = false;

  constructor(store: Store, remove: RemoveEntries, producer: Producer<NotifyPayload>, log: FastifyBaseLogger, options: RelayOptions = {}) {
    this.#store = store;
    this.#remove = remove;
    this.#producer = producer;
    this.#log = log;
    this.#batch = options.batch ?? RELAY_BATCH;
    this.#intervalMs = options.intervalMs ?? RELAY_INTERVAL_MS;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? RELAY_QUEUE_TIMEOUT_MS;
  }

  /** Relays now and then every interval until closed. */
  start(): void {
    this.wake();
  }

  /** Relays as soon as the current round ends (new entries were written). */
  wake(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.relay().then(() => {
      this.#running = undefined;
      if (this.#closed) return;
      if (this.#again) {
        this.#again = false;
        this.wake();
      } else {
        this.#timer = setTimeout(() => this.wake(), this.#intervalMs);
        this.#timer.unref();
      }
    });
  }

  /** Moves entries until the outbox is empty or Redis fails; answers how many were moved. Never throws. */
  async relay(): Promise<number> {
    let moved = 0;
    try {
      for (;;) {
        const { hits } = await this.#store.indexes.search(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE, {
          sort: [{ field: 'id', order: 'asc' }],
          limit: this.#batch,
        });
        if (hits.length === 0) break;
        const jobs = hits.map((entry) => ({
          name: notifyQueue.name,
          data: entry.notification as LeekTaskNotification,
          opts: { jobId: `outbox-${entry.id}` },
        }));
        const added = this.#producer.queue.addBulk(jobs);
        added.catch(() => {});
        if ((await within(added, this.#queueTimeoutMs)) === 'timeout')
          throw new Error(`Redis did not take the notifications within ${this.#queueTimeoutMs} ms`);
        await this.#remove(hits.map((entry) => entry.id));
        moved += hits.length;
        if (this.#failing) this.#log.info('notify queue reachable again: task notifications are being relayed');
        this.#failing = false;
        if (hits.length < this.#batch) break;
      }
    } catch (error) {
      if (!this.#failing) {
        const waiting = await this.pending().catch(() => undefined);
        this.#log.error({ err: error, waiting }, 'cannot relay task notifications to the notify queue: they wait in the outbox');
      }
      this.#failing = true;
    }
    return moved;
  }

  /** Entries waiting in the outbox. */
  pending(): Promise<number> {
    return this.#store.indexes.count(LEEK_OUTBOX_INDEX, LEEK_OUTBOX_SCOPE);
  }

  /** Stops relaying once the current round ends; what is left waits in the outbox for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
