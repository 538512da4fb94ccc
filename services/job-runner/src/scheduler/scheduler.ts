/**
 * The scheduler as it runs in job-runners: one instance leads at a time (a Redis lease with a fencing token), once a
 * minute it evaluates every event (behaviour §8), claims each (event, minute) once in Redis, and hands every claimed
 * slot to `launch` at the slot's second. Time comes from a Clock so tests can drive it.
 */
import type { RedisWiring } from '@shallot/core';
import type { ScheduleLaunchPayload } from '@shallot/schemas';
import type { Trigger } from '@shallot/schemas';
import type { Store } from '@shallot/store';
import {
  type Catalog,
  type PlannedLaunch,
  type SchedulableEvent,
  hasCatchup,
  isLaunching,
  minuteOf,
  planMinute,
  planStartup,
  schedulableTriggers,
} from './match.js';
import { ADVANCE_SCRIPT, CLAIM_SCRIPT, KEYS, LEASE_SCRIPT, RELEASE_SCRIPT, schedulerEnabled } from './state.js';
import { Zones } from './zone.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** What the scheduler reads each minute: the events and the records that can disable them. */
export interface ScheduleSnapshot extends Catalog {
  events: SchedulableEvent[];
}
export interface EventSource {
  load(): Promise<ScheduleSnapshot>;
}

/**
 * Hands claimed slots on (a batch at a time). Must be idempotent by `key`: after a crash the next leader hands on
 * again what was claimed and maybe not yet handed on. `nowMs` is the scheduler's clock: with `dispatchAheadMs` a
 * slot may be handed on before its time (`now` × 1000), and the launcher holds it until then (a delayed queue job).
 */
export type Launcher = (launches: ScheduleLaunchPayload[], nowMs: number) => Promise<void>;

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  redis: RedisWiring;
  source: EventSource;
  launch: Launcher;
  /** Unique per process (server id + pid). */
  instance: string;
  clock?: Clock;
  zones?: Zones;
  /** Lease time to live; a standby takes over at most this long (plus one poll) after the leader dies. @default 5000 */
  leaseMs?: number;
  /** How often the loop wakes at least (lease renewal, standby polling). @default 1000 */
  pollMs?: number;
  /** A minute is evaluated and claimed this long before it starts, so its first slots go out on time. @default 1000 */
  leadMs?: number;
  /**
   * Slots are handed on this long before their time, for a launcher that holds them until then: thousands of
   * launches in one second are queued ahead instead of late. @default 0 (each at its second)
   */
  dispatchAheadMs?: number;
  /** How long a claim key refuses a second claim of the same (event, minute). @default 900 */
  claimTtlSeconds?: number;
  /**
   * Without catch-up only the current minute is evaluated; a minute that ended less than this long ago still is, so
   * a leader change between two ticks loses nothing. @default 20
   */
  graceSeconds?: number;
  /**
   * Startup triggers fire when this instance first leads and its process is younger than this. @default 300
   * (behaviour §8: uptime under 5 minutes)
   */
  startupUptimeSeconds?: number;
  /** Process uptime in seconds. @default process.uptime */
  uptime?: () => number;
  /** Catch-up replays at most this many minutes per event per tick (the rest follows on the next ticks). @default 1440 */
  maxReplayMinutes?: number;
  log?: SchedulerLog;
}

interface Pending {
  at: number;
  payload: ScheduleLaunchPayload;
}

const CLAIM_BATCH = 250;

export class Scheduler {
  readonly #o: Required<Omit<SchedulerOptions, 'log'>> & { log?: SchedulerLog };
  #lease: string | null = null;
  #fence = 0;
  #lastMinute = 0;
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #startupChecked = false;
  #ticking: Promise<void> | undefined;
  #leaseCheckedAt = Number.NEGATIVE_INFINITY;
  /** The last minute evaluation, for the benchmark and logs: planning (pure CPU) and claiming (Redis) times in ms. */
  lastEvaluation = { minute: 0, events: 0, planMs: 0, claimMs: 0, claimed: 0 };

  constructor(options: SchedulerOptions) {
    this.#o = {
      clock: systemClock,
      zones: new Zones(),
      leaseMs: 5000,
      pollMs: 1000,
      leadMs: 1000,
      claimTtlSeconds: 900,
      graceSeconds: 20,
      maxReplayMinutes: 1440,
      dispatchAheadMs: 0,
      startupUptimeSeconds: 300,
      uptime: () => process.uptime(),
      ...options,
    };
  }

  get isLeader(): boolean {
    return this.#lease !== null;
  }
  get fence(): number {
    return this.#fence;
  }

  /** One step: keep or take the lease, evaluate due minutes, hand on due slots. */
  async tick(): Promise<void> {
    const redis = this.#o.redis.client;
    const nowMs = this.#o.clock.now();
    if (nowMs - this.#leaseCheckedAt >= this.#o.pollMs || !this.#lease) await this.#keepLease(nowMs);
    if (!this.#lease) return;
    const enabled = await schedulerEnabled(redis);
    // Startup triggers are checked once, on first leading, and only fire if the scheduler is on then.
    if (!this.#startupChecked) {
      this.#startupChecked = true;
      if (enabled) await this.#startup(nowMs);
    }
    if (enabled) {
      const target = minuteOf((nowMs + this.#o.leadMs) / 1000);
      if (target > this.#lastMinute) await this.#evaluate(target, nowMs);
    }
    await this.#dispatch(this.#o.clock.now());
  }

  /** Runs tick() on real time until stop(): at each slot's second, at each minute's lead, and every pollMs. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const loop = async () => {
      if (!this.#running) return;
      this.#ticking = this.tick().catch((error: unknown) => {
        this.#o.log?.warn({ err: error }, 'scheduler tick failed; retrying');
      });
      await this.#ticking;
      if (!this.#running) return;
      this.#timer = setTimeout(loop, this.#delayToNext());
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#ticking;
    if (this.#lease) {
      await this.#o.redis.client.eval(RELEASE_SCRIPT, 2, KEYS.lease, KEYS.leader, this.#lease).catch(() => undefined);
      this.#lease = null;
    }
  }

  /** When the loop should run next (ms since the epoch): a slot's time, a minute's lead, or a poll. */
  nextWakeMs(): number {
    return this.#o.clock.now() + this.#delayToNext();
  }

  #delayToNext(): number {
    const now = this.#o.clock.now();
    let next = now + this.#o.pollMs;
    const nextLead = (minuteOf((now + this.#o.leadMs) / 1000) + 60) * 1000 - this.#o.leadMs;
    next = Math.min(next, nextLead);
    for (const p of this.#pending.values()) next = Math.min(next, p.at - this.#o.dispatchAheadMs);
    return Math.max(0, next - now);
  }

  async #keepLease(nowMs: number): Promise<void> {
    const redis = this.#o.redis.client;
    const value = (await redis.eval(
      LEASE_SCRIPT,
      3,
      KEYS.lease,
      KEYS.fence,
      KEYS.leader,
      this.#o.instance,
      this.#lease ?? '',
      String(this.#o.leaseMs),
      String(nowMs),
    )) as string | null;
    this.#leaseCheckedAt = nowMs;
    if (value === this.#lease) return;
    if (value === null) {
      this.#o.log?.warn({ instance: this.#o.instance }, 'scheduler lease lost; standing by');
      this.#lease = null;
      this.#pending.clear();
      return;
    }
    // Newly leading: resume where the last leader stopped, and hand on what it claimed but did not.
    this.#lease = value;
    this.#fence = Number(value.split('|').pop());
    const [minute, pending] = await Promise.all([redis.get(KEYS.minute), redis.hgetall(KEYS.pending)]);
    this.#lastMinute = minute ? Number(minute) : 0;
    this.#pending.clear();
    for (const [key, raw] of Object.entries(pending)) this.#pending.set(key, JSON.parse(raw) as Pending);
    this.#o.log?.info({ instance: this.#o.instance, fence: this.#fence, pending: this.#pending.size }, 'scheduler leading');
  }

  async #evaluate(target: number, nowMs: number): Promise<void> {
    const started = performance.now();
    const redis = this.#o.redis.client;
    const snapshot = await this.#o.source.load();
    const [cursors, generations] = await Promise.all([redis.hgetall(KEYS.cursors), redis.hgetall(KEYS.generations)]);
    const nowSeconds = nowMs / 1000;
    // Without catch-up: the current minute, and a minute missed by a leader change within the grace period.
    const firstPlain =
      this.#lastMinute === 0 ? target : Math.max(this.#lastMinute + 60, minuteOf(nowSeconds - this.#o.graceSeconds - 60) + 60);
    const groups: string[][] = [];
    const claimed: PlannedLaunch[][] = [];
    const idle: string[] = [];
    for (const event of snapshot.events) {
      const triggers = schedulableTriggers(event, snapshot);
      if (!isLaunching(triggers)) continue;
      const catchup = hasCatchup(triggers);
      let from = firstPlain;
      if (catchup) {
        const stored = cursors[event.id];
        from = stored === undefined ? target : Math.max(Number(stored) + 60, target - 60 * (this.#o.maxReplayMinutes - 1));
      }
      const generation = generations[event.id] ?? '0';
      for (let minute = from; minute <= target; minute += 60) {
        const plan = planMinute(event.id, triggers, this.#o.zones, minute);
        if (plan.launches.length === 0) continue;
        groups.push(this.#group(event.id, generation, minute, catchup, plan.nth ?? 0, plan.launches));
        claimed.push(plan.launches);
      }
      if (catchup && from <= target) idle.push(event.id, String(target));
    }
    const planned = performance.now();
    const codes: number[] = [];
    for (let i = 0; i < groups.length; i += CLAIM_BATCH) {
      const batch = groups.slice(i, i + CLAIM_BATCH);
      const answer = await this.#claim(batch);
      if (answer === undefined) return this.#lost();
      codes.push(...answer);
    }
    const moved = await redis.eval(ADVANCE_SCRIPT, 3, KEYS.lease, KEYS.cursors, KEYS.minute, this.#lease ?? '', String(target), ...idle);
    if (moved === -1) return this.#lost();
    this.#lastMinute = target;
    let count = 0;
    for (const [index, launches] of claimed.entries()) {
      if (codes[index] !== 1) continue;
      count += launches.length;
      for (const launch of launches) {
        const payload = this.#payload(launch, generations[launch.event] ?? '0');
        this.#pending.set(payload.key, { at: launch.now * 1000, payload });
      }
    }
    this.lastEvaluation = {
      minute: target,
      events: snapshot.events.length,
      planMs: planned - started,
      claimMs: performance.now() - planned,
      claimed: count,
    };
  }

  /**
   * Startup triggers, once per process, when it first leads young enough. Claimed under the fencing token, so a
   * leader that starts twice within the lease (a retry) does not launch them twice.
   */
  async #startup(nowMs: number): Promise<void> {
    if (this.#o.uptime() >= this.#o.startupUptimeSeconds) return;
    const snapshot = await this.#o.source.load();
    const now = Math.floor(nowMs / 1000);
    const groups: string[][] = [];
    const launches: PlannedLaunch[] = [];
    for (const event of snapshot.events) {
      const launch = planStartup(event.id, schedulableTriggers(event, snapshot), now);
      if (!launch) continue;
      const payload = { key: `${event.id}.startup.f${this.#fence}`, ...launch, fence: this.#fence };
      groups.push([event.id, `${event.id}:startup:${this.#fence}`, '', '0', '1', payload.key, JSON.stringify({ at: nowMs, payload })]);
      launches.push(launch);
      this.#pending.set(payload.key, { at: nowMs, payload });
    }
    if (groups.length === 0) return;
    const answer = await this.#claim(groups);
    if (answer === undefined) return this.#lost();
    for (const [index, code] of answer.entries()) {
      const launch = launches[index];
      if (code !== 1 && launch) this.#pending.delete(`${launch.event}.startup.f${this.#fence}`);
    }
  }

  async #claim(batch: string[][]): Promise<number[] | undefined> {
    const answer = (await this.#o.redis.client.eval(
      CLAIM_SCRIPT,
      5,
      KEYS.lease,
      KEYS.cursors,
      KEYS.nth,
      KEYS.pending,
      KEYS.launches,
      this.#lease ?? '',
      `${this.#o.redis.client.options.keyPrefix ?? ''}${KEYS.claimPrefix}`,
      String(this.#o.claimTtlSeconds),
      String(batch.length),
      ...batch.flat(),
    )) as number | number[];
    return Array.isArray(answer) ? answer : undefined;
  }

  #payload(launch: PlannedLaunch, generation: string): ScheduleLaunchPayload {
    const key = `${launch.event}.${launch.now}${generation === '0' ? '' : `.g${generation}`}`;
    return { key, ...launch, fence: this.#fence };
  }

  #group(event: string, generation: string, minute: number, catchup: boolean, every: number, launches: PlannedLaunch[]): string[] {
    const group = [event, `${event}:${generation}:${minute}`, catchup ? String(minute) : '', String(every), String(launches.length)];
    for (const launch of launches) {
      const payload = this.#payload(launch, generation);
      group.push(payload.key, JSON.stringify({ at: launch.now * 1000, payload }));
    }
    return group;
  }

  #lost(): void {
    this.#o.log?.warn({ instance: this.#o.instance }, 'scheduler lease lost during a claim; standing by');
    this.#lease = null;
    this.#pending.clear();
  }

  async #dispatch(nowMs: number): Promise<void> {
    const due = [...this.#pending.values()].filter((p) => p.at - this.#o.dispatchAheadMs <= nowMs).sort((a, b) => a.at - b.at);
    if (due.length === 0) return;
    const payloads = due.map((p) => p.payload);
    await this.#o.launch(payloads, nowMs);
    for (const payload of payloads) this.#pending.delete(payload.key);
    await this.#o.redis.client.hdel(KEYS.pending, ...payloads.map((p) => p.key));
  }
}

/** Events, categories and plugins from the store's collections. */
export class StoreEventSource implements EventSource {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async load(): Promise<ScheduleSnapshot> {
    const all = async (collection: string) => {
      const rows = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await this.#store.collections.list(collection, { offset, limit: 1000 });
        rows.push(...page.rows);
        if (page.rows.length < 1000) return rows;
      }
    };
    const [events, categories, plugins] = await Promise.all([all('events'), all('categories'), all('plugins')]);
    return {
      events: events.map((e) => ({ ...e, triggers: e.triggers as Trigger[] | undefined }) as SchedulableEvent),
      categories: new Map(categories.map((c) => [c.id, { enabled: c.enabled }])),
      plugins: new Map(plugins.map((p) => [p.id, { enabled: p.enabled }])),
    };
  }
}
