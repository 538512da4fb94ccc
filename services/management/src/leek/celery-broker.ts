/**
 * An application's Celery broker, spoken to the way Celery's own transports do, so workers take what Shallot sends as
 * if a Celery client had sent it. Redis here (RabbitMQ in amqp-broker.ts):
 * - a task goes on the list of every queue bound to its exchange with its routing key (bindings are the
 *   `_kombu.binding.<exchange>` sets, members `routing_key SEP pattern SEP queue`), as a kombu message envelope whose
 *   body is base64 JSON (Celery message protocol 2: `[args, kwargs, embed]`, the task in the headers);
 * - a control command (revoke) is a PUBLISH of the same envelope on the `/<db>.celery.pidbox` channel, the fanout
 *   every worker's mailbox listens on.
 * Connections are opened per call with bounded timeouts, only to addresses the guard checked (brokers are normally
 * internal, so internal addresses need the operator's SHALLOT_BROKER_ALLOW).
 */
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { LeekError, forbiddenAddressReason, parseWebhookAllowList } from '@shallot/core';
import { Redis } from 'ioredis';
import { AmqpBroker } from './amqp-broker.js';

/** Connect, and each command, may take this long before the broker counts as unreachable. @default 3 s */
export const BROKER_TIMEOUT_MS = 3000;
/** kombu's separator inside binding members and before a priority suffix. */
const SEP = '\x06\x16';
/** kombu's Redis priority steps: a message of priority p > 0 goes on `<queue>SEP<step>`. */
const PRIORITY_STEPS = [0, 3, 6, 9] as const;
/** Celery's `control_exchange` default: mailboxes are bound to `celery.pidbox`. */
export const CONTROL_EXCHANGE = 'celery.pidbox';
/** A revoke command is dropped by workers that get it later than this. @default 300 s (as Leek sets it) */
export const CONTROL_EXPIRES_S = 300;
/** Binding sets read at most (a broker with more exchanges than this is not one the queues page can show). */
const MAX_BINDINGS = 1000;

export interface BrokerSettings {
  kind: 'redis' | 'amqp';
  url: URL;
  host: string;
  port: number;
  db: number;
  /** RabbitMQ virtual host (`/` when the URL's path is empty or `/`). */
  vhost: string;
  tls: boolean;
  username?: string;
  password?: string;
}

const invalid = (reason: string): never => {
  throw new LeekError('invalid', `broker_url: ${reason}`);
};

/**
 * Checks a broker URL as Celery reads it: `redis[s]://[[user]:password@]host[:port][/db]` or
 * `amqp[s]://[user:password@]host[:port][/vhost]` (`pyamqp://` is amqp).
 */
export function parseBrokerUrl(text: string): BrokerSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid('not a URL');
  }
  const amqp = url.protocol === 'amqp:' || url.protocol === 'amqps:' || url.protocol === 'pyamqp:';
  if (!amqp && url.protocol !== 'redis:' && url.protocol !== 'rediss:') invalid('use a redis://, rediss://, amqp:// or amqps:// URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') invalid('the URL has no host');
  if (url.search !== '' || url.hash !== '') invalid('query strings and fragments are not supported');
  const path = url.pathname.replace(/^\//, '');
  let db = 0;
  let vhost = '/';
  if (amqp) {
    if (path !== '') vhost = decodeURIComponent(path);
  } else {
    if (path !== '' && !/^\d{1,4}$/.test(path)) invalid('the path must be a database number (/0 to /9999)');
    if (path !== '') db = Number(path);
  }
  const tls = url.protocol === 'rediss:' || url.protocol === 'amqps:';
  const settings: BrokerSettings = {
    kind: amqp ? 'amqp' : 'redis',
    url,
    host,
    port: url.port !== '' ? Number(url.port) : amqp ? (tls ? 5671 : 5672) : 6379,
    db,
    vhost,
    tls,
  };
  if (url.username !== '') settings.username = decodeURIComponent(url.username);
  if (url.password !== '') settings.password = decodeURIComponent(url.password);
  return settings;
}

/** Resolves the host and refuses internal addresses unless allow-listed; answers the address to connect to. */
export async function checkBrokerHost(settings: BrokerSettings, allow: string): Promise<string> {
  const allowList = parseWebhookAllowList(allow);
  const literal = isIP(settings.host);
  let addresses: string[];
  if (literal) addresses = [settings.host];
  else {
    try {
      addresses = (await lookup(settings.host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new LeekError('brokerUnreachable', `The broker host ${settings.host} could not be resolved`);
    }
  }
  const hostAllowed = allowList.hosts.has(settings.host.toLowerCase());
  for (const address of addresses) {
    const reason = hostAllowed ? undefined : forbiddenAddressReason(address, allowList);
    if (reason) {
      throw new LeekError(
        'invalid',
        `broker_url: ${settings.host}${literal ? '' : ` (${address})`} is ${reason}; the operator allows internal brokers with SHALLOT_BROKER_ALLOW`,
      );
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new LeekError('brokerUnreachable', `The broker host ${settings.host} has no address`);
  return first;
}

/** A kombu message envelope as the Redis transport stores and publishes it. */
function envelope(
  body: unknown,
  headers: Record<string, unknown>,
  delivery: { exchange: string; routing_key: string },
  properties: Record<string, unknown>,
) {
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers,
    properties: {
      ...properties,
      delivery_info: delivery,
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}

export interface TaskMessage {
  exchange: string;
  routingKey: string;
  /** Celery protocol 2 headers (task, id, argsrepr…). */
  headers: Record<string, unknown>;
  args: unknown[];
  kwargs: Record<string, unknown>;
  correlationId: string;
}

export interface QueueInfo {
  name: string;
  ready: number;
  memory: number;
  /** Queues of fanout exchanges (mailboxes, event receivers) hold no list on Redis. */
  fanout: boolean;
}

/** One connection to an app's broker, whichever transport; close it when done. */
export interface CeleryBroker {
  /** Queues a task message; answers the queues it went to (400 `400006` when none would take it). */
  sendTask(message: TaskMessage): Promise<string[]>;
  /** Broadcasts a control command to every worker's mailbox; answers how many receivers got it (-1: not known). */
  broadcast(method: string, args: Record<string, unknown>): Promise<number>;
  /** Queues with their waiting messages. */
  queues(): Promise<QueueInfo[]>;
  /** Deletes the waiting messages of a queue; undefined when there is no such queue. */
  purge(queue: string): Promise<number | undefined>;
  close(): void;
}

/** The reason a connection failed, as the API says it: 401 `401004` for refused credentials, else 503 `503002`. */
export function connectError(settings: BrokerSettings, message: string): LeekError {
  if (/NOAUTH|WRONGPASS|invalid password|invalid username|ACCESS.REFUSED|403/i.test(message)) {
    return new LeekError('brokerAccessRefused', `The broker at ${settings.host}:${settings.port} refused the credentials`);
  }
  return new LeekError('brokerUnreachable', `The broker at ${settings.host}:${settings.port} is not reachable: ${message}`);
}

/** Connects to an app's broker (bounded), Redis or RabbitMQ by the URL's scheme. */
export async function openBroker(brokerUrl: string, allow: string, timeoutMs = BROKER_TIMEOUT_MS): Promise<CeleryBroker> {
  const settings = parseBrokerUrl(brokerUrl);
  const address = await checkBrokerHost(settings, allow);
  if (settings.kind === 'amqp') return AmqpBroker.open(settings, address, timeoutMs);
  return RedisBroker.open(settings, address, timeoutMs);
}

/** Celery's Redis transport (kombu `redis://`). */
export class RedisBroker implements CeleryBroker {
  private constructor(
    private readonly redis: Redis,
    private readonly db: number,
  ) {}

  /** Connects (bounded): 503 `503002` when unreachable, 401 `401004` when the broker refuses the credentials. */
  static async open(settings: BrokerSettings, address: string, timeoutMs: number): Promise<RedisBroker> {
    const redis = new Redis({
      host: address,
      port: settings.port,
      db: settings.db,
      ...(settings.username !== undefined ? { username: settings.username } : {}),
      ...(settings.password !== undefined ? { password: settings.password } : {}),
      ...(settings.tls ? { tls: { servername: settings.host } } : {}),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // The reason a connection fails (refused, wrong password) comes as an error event; connect() only says "closed".
    let reason: string | undefined;
    redis.on('error', (error: Error) => {
      reason ??= error.message;
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw connectError(settings, reason ?? (error instanceof Error ? error.message : String(error)));
    }
    return new RedisBroker(redis, settings.db);
  }

  close(): void {
    this.redis.disconnect();
  }

  /** Runs a broker command; a broker that fails meanwhile is 503 `503002`. */
  private async run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof LeekError) throw error;
      throw new LeekError(
        'brokerUnreachable',
        `The broker failed while ${what}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Bindings of an exchange: `[routing_key, pattern, queue]` triples. */
  private async bindings(exchange: string): Promise<Array<[string, string, string]>> {
    const members = await this.redis.smembers(`_kombu.binding.${exchange}`);
    return members.map((m) => {
      const [routingKey = '', pattern = '', queue = ''] = m.split(SEP);
      return [routingKey, pattern, queue];
    });
  }

  /**
   * Queues a task message as a Celery client would: the default exchange ("") routes to the queue named by the
   * routing key; a named (direct) exchange to every queue bound with that routing key. Answers the queues it went to;
   * 400 `400006` when no queue is bound (no worker ever consumed that route, so nothing would run it).
   */
  async sendTask(message: TaskMessage): Promise<string[]> {
    return this.run('queuing the task', async () => {
      // The default exchange ("") names the queue itself; it must be one a worker declared (bound somewhere), so a
      // routing key recorded by an agent can never make this write to another key of the broker.
      const queues =
        message.exchange === ''
          ? (await this.queues()).some((q) => q.name === message.routingKey && !q.fanout)
            ? [message.routingKey]
            : []
          : [...new Set((await this.bindings(message.exchange)).filter(([rk]) => rk === message.routingKey).map(([, , q]) => q))];
      if (queues.length === 0 || queues.some((q) => q === '')) {
        throw new LeekError(
          'notRoutable',
          `No queue is bound to exchange "${message.exchange}" with routing key "${message.routingKey}" on the broker (has a worker consumed it?)`,
        );
      }
      const delivery = { exchange: message.exchange, routing_key: message.routingKey };
      const body = [message.args, message.kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }];
      const raw = envelope(body, message.headers, delivery, {
        correlation_id: message.correlationId,
        reply_to: '',
        delivery_mode: 2,
      });
      const pipeline = this.redis.multi();
      for (const queue of queues) pipeline.lpush(queue, raw);
      await pipeline.exec();
      return queues;
    });
  }

  /** Broadcasts a control command to every worker's mailbox; answers how many broker connections got it. */
  async broadcast(method: string, args: Record<string, unknown>): Promise<number> {
    return this.run('broadcasting the command', async () => {
      const body = { method, arguments: args, destination: null, pattern: null, matcher: null };
      const raw = envelope(
        body,
        { clock: 1, expires: Date.now() / 1000 + CONTROL_EXPIRES_S },
        { exchange: CONTROL_EXCHANGE, routing_key: '' },
        { delivery_mode: 1 },
      );
      return this.redis.publish(`/${this.db}.${CONTROL_EXCHANGE}`, raw);
    });
  }

  /** Every queue bound on the broker, with its waiting messages (all priority lists) and memory. */
  async queues(): Promise<QueueInfo[]> {
    return this.run('listing queues', async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await this.redis.scan(cursor, 'MATCH', '_kombu.binding.*', 'COUNT', 200);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0' && keys.length < MAX_BINDINGS);
      const byName = new Map<string, boolean>();
      for (const key of keys.slice(0, MAX_BINDINGS).sort()) {
        const exchange = key.slice('_kombu.binding.'.length);
        // Celery's fanout exchanges: mailboxes, event receivers and reply queues (nothing is stored for them).
        const fanout = exchange.endsWith('.pidbox') || exchange === 'celeryev' || exchange.endsWith('.reply.celery.pidbox');
        for (const [, , queue] of await this.bindings(exchange)) {
          if (queue !== '') byName.set(queue, (byName.get(queue) ?? false) || fanout);
        }
      }
      const out: QueueInfo[] = [];
      for (const [name, fanout] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const lists = PRIORITY_STEPS.map((p) => (p === 0 ? name : `${name}${SEP}${p}`));
        let ready = 0;
        let memory = 0;
        for (const list of lists) {
          ready += await this.redis.llen(list);
          memory += Number((await this.redis.call('MEMORY', 'USAGE', list)) ?? 0);
        }
        out.push({ name, ready, memory, fanout });
      }
      return out;
    });
  }

  /** Deletes the waiting messages of a bound queue (every priority list); answers how many. */
  async purge(queue: string): Promise<number | undefined> {
    return this.run('purging the queue', async () => {
      const known = (await this.queues()).find((q) => q.name === queue && !q.fanout);
      if (known === undefined) return undefined;
      const lists = PRIORITY_STEPS.map((p) => (p === 0 ? queue : `${queue}${SEP}${p}`));
      const pipeline = this.redis.multi();
      for (const list of lists) pipeline.llen(list);
      pipeline.del(...lists);
      const results = (await pipeline.exec()) ?? [];
      return results.slice(0, lists.length).reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
    });
  }
}
