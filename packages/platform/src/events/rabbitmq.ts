import type { EventEnvelope } from '@hms/contracts';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
} from 'amqplib';
import type { Logger } from 'pino';
import {
  DEFAULT_PREFETCH,
  DEFAULT_RETRY,
  PermanentEventError,
  failureReason,
  retryDelay,
  isStored,
  type DeadLetter,
  type EventBus,
  type Publishable,
  type RetryPolicy,
  type Subscription,
} from './bus.js';
import { DependencyUnavailableError } from '../dependency.js';
import type { EventMetrics } from './metrics.js';
import { KeyedSerialExecutor } from './ordering.js';

import { ATTEMPT, ChannelAcks, DEAD_AT, REASON, toDeadLetter, withQueueMessages } from './rabbit-parts.js';

export interface RabbitOptions {
  url: string;
  logger: Logger;
  retry?: RetryPolicy;
  prefetch?: number;
  metrics?: EventMetrics;
  /** Reconnect backoff bounds. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Prefix of the exchange and queue names (default `hms`); tests use a unique one each. */
  namespace?: string;
}

interface Consumer {
  sub: Subscription;
  executor: KeyedSerialExecutor;
  channel?: Channel;
  acks?: ChannelAcks;
  tag?: string;
}

export class RabbitBus implements EventBus {
  readonly kind = 'rabbitmq' as const;
  private conn?: ChannelModel;
  private pub?: ConfirmChannel;
  private admin?: Channel;
  private readonly consumers = new Map<string, Consumer>();
  private connecting?: Promise<void>;
  private closed = false;
  private consuming = true;
  private backoff: number;
  private reconnectTimer?: NodeJS.Timeout;

  private readonly ns: string;

  private constructor(private readonly opts: RabbitOptions) {
    this.backoff = opts.reconnectMinMs ?? 100;
    this.ns = opts.namespace ?? 'hms';
  }

  get exchange(): string {
    return `${this.ns}.events`;
  }

  queueOf(consumer: string): string {
    return `${this.ns}.${consumer}`;
  }

  dlqOf(consumer: string): string {
    return `${this.ns}.${consumer}.dlq`;
  }

  /** The delay is part of the name: a queue's TTL cannot change once declared. */
  retryQueueOf(consumer: string, delayMs: number): string {
    return `${this.ns}.${consumer}.retry.${delayMs}ms`;
  }

  static async connect(opts: RabbitOptions): Promise<RabbitBus> {
    const bus = new RabbitBus(opts);
    await bus.open();
    return bus;
  }

  private get retry(): RetryPolicy {
    return this.opts.retry ?? DEFAULT_RETRY;
  }

  private get prefetch(): number {
    return this.opts.prefetch ?? DEFAULT_PREFETCH;
  }

  private async open(): Promise<void> {
    const conn = await amqp.connect(this.opts.url, { timeout: 5000 });
    conn.on('error', () => undefined); // 'close' follows; handled there
    conn.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = this.pub = this.admin = undefined;
      for (const c of this.consumers.values()) c.channel = c.acks = c.tag = undefined;
      if (!this.closed) {
        this.opts.logger.warn('broker connection lost; reconnecting');
        this.scheduleReconnect();
      }
    });
    const pub = await conn.createConfirmChannel();
    pub.on('error', () => undefined);
    const admin = await conn.createChannel();
    admin.on('error', () => undefined);
    await pub.assertExchange(this.exchange, 'topic', { durable: true });
    this.conn = conn;
    this.pub = pub;
    this.admin = admin;
    this.backoff = this.opts.reconnectMinMs ?? 100;
    if (this.consuming) for (const c of this.consumers.values()) await this.startConsumer(c);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoff * (0.8 + Math.random() * 0.4);
    this.backoff = Math.min(this.backoff * 2, this.opts.reconnectMaxMs ?? 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connecting ??= this.open()
        .then(() => this.opts.logger.info('broker connection restored'))
        .catch(() => this.scheduleReconnect())
        .finally(() => (this.connecting = undefined));
    }, delay);
  }

  private channel(): ConfirmChannel {
    if (!this.pub) throw new DependencyUnavailableError('broker');
    return this.pub;
  }

  private send(
    queueOrKey: string,
    exchange: string,
    body: Buffer,
    headers: Record<string, unknown>,
    envelope: Pick<EventEnvelope, 'id' | 'type' | 'traceparent'>,
  ): Promise<void> {
    const ch = this.channel();
    return new Promise<void>((resolve, reject) => {
      ch.publish(
        exchange,
        queueOrKey,
        body,
        {
          persistent: true,
          messageId: envelope.id,
          type: envelope.type,
          contentType: 'application/cloudevents+json',
          timestamp: Math.floor(Date.now() / 1000),
          headers: { ...headers, ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}) },
        },
        (err: unknown) =>
          err ? reject(err instanceof Error ? err : new Error('publish not confirmed')) : resolve(),
      );
    });
  }

  async publish(envelopes: readonly Publishable[]): Promise<void> {
    await Promise.all(
      envelopes.map((e) =>
        this.send(
          e.type,
          this.exchange,
          Buffer.from(isStored(e) ? e.json : JSON.stringify(e)),
          { [ATTEMPT]: 1 },
          e,
        ),
      ),
    );
    for (const e of envelopes) this.opts.metrics?.published.inc({ type: e.type });
  }

  async subscribe(sub: Subscription): Promise<void> {
    if (this.consumers.has(sub.consumer)) throw new Error(`${sub.consumer} already subscribed`);
    const c: Consumer = { sub, executor: new KeyedSerialExecutor(this.prefetch) };
    this.consumers.set(sub.consumer, c);
    if (this.conn && this.consuming) await this.startConsumer(c);
  }

  private async startConsumer(c: Consumer): Promise<void> {
    if (!this.conn) return;
    const name = c.sub.consumer;
    const ch = await this.conn.createChannel();
    ch.on('error', () => undefined);
    await ch.assertExchange(this.exchange, 'topic', { durable: true });
    await ch.assertQueue(this.queueOf(name), { durable: true });
    for (const type of c.sub.types)
      await ch.bindQueue(this.queueOf(name), this.exchange, type === '*' ? '#' : type);
    for (const delay of new Set(this.retry.delaysMs)) {
      await ch.assertQueue(this.retryQueueOf(name, delay), {
        durable: true,
        arguments: {
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': this.queueOf(name),
        },
      });
    }
    await ch.assertQueue(this.dlqOf(name), { durable: true });
    await ch.prefetch(this.prefetch);
    const acks = new ChannelAcks(ch);
    const { consumerTag } = await ch.consume(this.queueOf(name), (msg) => {
      if (msg) this.onMessage(c, acks, msg);
    });
    c.channel = ch;
    c.acks = acks;
    c.tag = consumerTag;
  }

  private onMessage(c: Consumer, acks: ChannelAcks, msg: ConsumeMessage): void {
    acks.received(msg);
    const attempt = Number((msg.properties.headers ?? {})[ATTEMPT] ?? 1) || 1;
    let envelope: EventEnvelope;
    try {
      envelope = JSON.parse(msg.content.toString('utf8')) as EventEnvelope;
      if (typeof envelope !== 'object' || typeof envelope.subject !== 'string')
        throw new Error('not an envelope');
    } catch {
      void this.deadLetter(
        c,
        acks,
        msg,
        attempt,
        'PermanentEventError: message is not a JSON event envelope',
      );
      return;
    }
    void c.executor
      .run(envelope.subject, () => c.sub.handler(envelope, { attempt }))
      .then(
        () => {
          this.opts.metrics?.consumed.inc({ consumer: c.sub.consumer, type: envelope.type });
          acks.ack(msg);
        },
        (err: unknown) => this.failed(c, acks, msg, envelope, attempt, err),
      )
      .catch(() => undefined); // the channel died: the broker redelivers the unacked message
  }

  private async failed(
    c: Consumer,
    acks: ChannelAcks,
    msg: ConsumeMessage,
    envelope: EventEnvelope,
    attempt: number,
    err: unknown,
  ): Promise<void> {
    const labels = { consumer: c.sub.consumer, type: envelope.type };
    if (err instanceof PermanentEventError || attempt >= this.retry.maxAttempts) {
      await this.deadLetter(c, acks, msg, attempt, failureReason(err), envelope);
      return;
    }
    try {
      const delay = retryDelay(this.retry, attempt);
      await this.send(
        this.retryQueueOf(c.sub.consumer, delay),
        '',
        msg.content,
        { [ATTEMPT]: attempt + 1, [REASON]: failureReason(err) },
        envelope,
      );
      this.opts.metrics?.retried.inc(labels);
      acks.ack(msg);
    } catch {
      acks.nack(msg);
    }
  }

  private async deadLetter(
    c: Consumer,
    acks: ChannelAcks,
    msg: ConsumeMessage,
    attempt: number,
    reason: string,
    envelope?: EventEnvelope,
  ): Promise<void> {
    const env =
      envelope ??
      ({
        id: String(msg.properties.messageId ?? 'unknown'),
        type: String(msg.properties.type ?? 'unknown'),
      } as EventEnvelope);
    try {
      await this.send(
        this.dlqOf(c.sub.consumer),
        '',
        msg.content,
        { [ATTEMPT]: attempt, [REASON]: reason, [DEAD_AT]: new Date().toISOString() },
        env,
      );
      this.opts.metrics?.deadLettered.inc({ consumer: c.sub.consumer, type: env.type });
      acks.ack(msg);
    } catch {
      acks.nack(msg);
    }
  }

  /** Reads dead letters without removing them (each is returned to the queue). */
  async listDeadLetters(consumer: string, limit = 100): Promise<DeadLetter[]> {
    return this.withDeadLetters(consumer, limit, (msgs, ch) => {
      for (const m of msgs) ch.nack(m, false, true);
      return msgs.map(toDeadLetter);
    });
  }

  async replayDeadLetters(consumer: string, ids?: readonly string[]): Promise<number> {
    return this.withDeadLetters(consumer, 10_000, async (msgs, ch) => {
      let n = 0;
      for (const m of msgs) {
        const dl = toDeadLetter(m);
        if (ids && !ids.includes(dl.id)) {
          ch.nack(m, false, true);
          continue;
        }
        await this.send(this.queueOf(consumer), '', m.content, { [ATTEMPT]: 1 }, dl.envelope);
        ch.ack(m);
        n += 1;
      }
      return n;
    });
  }

  private async withDeadLetters<T>(
    consumer: string,
    limit: number,
    fn: (msgs: Message[], ch: Channel) => T | Promise<T>,
  ): Promise<T> {
    if (!this.conn) throw new DependencyUnavailableError('broker');
    return withQueueMessages(this.conn, this.dlqOf(consumer), limit, fn);
  }

  async deadLetterDepth(consumer: string): Promise<number> {
    if (!this.conn) throw new DependencyUnavailableError('broker');
    // a channel of its own: checking a queue that does not exist closes the channel it ran on,
    // and on the shared admin channel that would fail every later ping (the readiness check)
    const ch = await this.conn.createChannel();
    ch.on('error', () => undefined);
    try {
      return (await ch.checkQueue(this.dlqOf(consumer))).messageCount;
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return 0; // no DLQ: nothing was ever dead-lettered
      throw err;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    if (!this.conn || !this.admin) throw new DependencyUnavailableError('broker');
    await this.admin.checkExchange(this.exchange);
  }

  async stopConsuming(): Promise<void> {
    this.consuming = false;
    for (const c of this.consumers.values()) {
      if (c.channel && c.tag) await c.channel.cancel(c.tag).catch(() => undefined);
    }
    await Promise.all([...this.consumers.values()].map((c) => c.executor.drain()));
    for (const c of this.consumers.values()) c.acks?.flush(); // before the channel may close
  }

  /** Deletes this namespace's exchange and queues (tests). */
  async destroy(): Promise<void> {
    if (!this.conn) return;
    const ch = await this.conn.createChannel();
    ch.on('error', () => undefined);
    for (const c of this.consumers.keys()) {
      await ch.deleteQueue(this.queueOf(c)).catch(() => undefined);
      await ch.deleteQueue(this.dlqOf(c)).catch(() => undefined);
      for (const d of new Set(this.retry.delaysMs))
        await ch.deleteQueue(this.retryQueueOf(c, d)).catch(() => undefined);
    }
    await ch.deleteExchange(this.exchange).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close().catch(() => undefined);
  }
}
