/**
 * Celery's AMQP transport (RabbitMQ): a task is published to its exchange with its routing key, mandatory, on a
 * confirm channel (a message no queue takes comes back, and is a 400 `400006`); a control command is published to
 * the `celery.pidbox` fanout exchange every worker's mailbox is bound to. Bodies are plain JSON with Celery's
 * protocol 2 headers, as kombu's amqp transport sends them. Listing queues needs RabbitMQ's management API, which
 * Shallot does not use: it answers 501.
 */
import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib';
import { LeekError, within } from '@shallot/core';
import {
  type BrokerSettings,
  CONTROL_EXCHANGE,
  CONTROL_EXPIRES_S,
  type CeleryBroker,
  type QueueInfo,
  type TaskMessage,
  connectError,
} from './celery-broker.js';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class AmqpBroker implements CeleryBroker {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly timeoutMs: number,
  ) {}

  static async open(settings: BrokerSettings, address: string, timeoutMs: number): Promise<AmqpBroker> {
    const options = {
      protocol: settings.tls ? 'amqps' : 'amqp',
      hostname: address,
      port: settings.port,
      username: settings.username ?? 'guest',
      password: settings.password ?? 'guest',
      vhost: settings.vhost,
      heartbeat: 0,
    };
    const attempt = connect(options, { timeout: timeoutMs, ...(settings.tls ? { servername: settings.host } : {}) });
    let outcome: ChannelModel | 'timeout';
    try {
      outcome = await within(attempt, timeoutMs);
    } catch (error) {
      throw connectError(settings, errorText(error));
    }
    if (outcome === 'timeout') {
      // A connection that completes after all is closed at once.
      attempt.then((late) => late.close()).catch(() => {});
      throw connectError(settings, `no answer within ${timeoutMs} ms`);
    }
    outcome.on('error', () => {
      // Channel and connection errors surface through the operation that caused them.
    });
    return new AmqpBroker(outcome, timeoutMs);
  }

  close(): void {
    this.connection.close().catch(() => {});
  }

  /** Runs `work` on a fresh confirm channel (a channel error closes only that channel), bounded. */
  private async onChannel<T>(what: string, work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    let channel: ConfirmChannel | undefined;
    try {
      channel = await this.connection.createConfirmChannel();
      channel.on('error', () => {});
      const result = await within(work(channel), this.timeoutMs);
      if (result === 'timeout')
        throw new LeekError('brokerUnreachable', `The broker did not answer within ${this.timeoutMs} ms while ${what}`);
      return result;
    } catch (error) {
      if (error instanceof LeekError) throw error;
      throw new LeekError('brokerUnreachable', `The broker failed while ${what}: ${errorText(error)}`);
    } finally {
      channel?.close().catch(() => {});
    }
  }

  async sendTask(message: TaskMessage): Promise<string[]> {
    const route = `exchange "${message.exchange}" with routing key "${message.routingKey}"`;
    return this.onChannel('queuing the task', async (channel) => {
      if (message.exchange !== '') {
        try {
          await channel.checkExchange(message.exchange);
        } catch {
          throw new LeekError('notRoutable', `The broker has no exchange "${message.exchange}" (has a worker consumed it?)`);
        }
      }
      let returned = false;
      channel.on('return', () => {
        returned = true;
      });
      const body = [message.args, message.kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }];
      channel.publish(message.exchange, message.routingKey, Buffer.from(JSON.stringify(body)), {
        mandatory: true,
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: message.headers,
        correlationId: message.correlationId,
        replyTo: '',
        deliveryMode: 2,
        priority: 0,
      });
      await channel.waitForConfirms();
      if (returned) throw new LeekError('notRoutable', `No queue is bound to ${route} on the broker (has a worker consumed it?)`);
      return [route];
    });
  }

  async broadcast(method: string, args: Record<string, unknown>): Promise<number> {
    return this.onChannel('broadcasting the command', async (channel) => {
      try {
        await channel.checkExchange(CONTROL_EXCHANGE);
      } catch {
        // No worker ever declared its mailbox on this broker: nobody to tell.
        return 0;
      }
      const body = { method, arguments: args, destination: null, pattern: null, matcher: null };
      channel.publish(CONTROL_EXCHANGE, '', Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { clock: 1, expires: Date.now() / 1000 + CONTROL_EXPIRES_S },
        deliveryMode: 1,
      });
      await channel.waitForConfirms();
      return -1;
    });
  }

  async queues(): Promise<QueueInfo[]> {
    throw new LeekError('noBroker', 'Listing the queues of a RabbitMQ broker needs its management API, which Shallot does not use');
  }

  async purge(queue: string): Promise<number | undefined> {
    return this.onChannel('purging the queue', async (channel) => {
      try {
        await channel.checkQueue(queue);
      } catch {
        return undefined;
      }
      return (await channel.purgeQueue(queue)).messageCount;
    });
  }
}
