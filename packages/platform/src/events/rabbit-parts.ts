import type { EventEnvelope } from '@hms/contracts';
import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import type { DeadLetter } from './bus.js';

/** Headers the bus keeps on a delivery: its attempt, why it failed, when it was dead-lettered. */
export const ATTEMPT = 'x-hms-attempt';
export const REASON = 'x-hms-reason';
export const DEAD_AT = 'x-hms-dead-at';

/**
 * The acks of one consuming channel, coalesced: what finished during one turn of the event loop
 * is acked at its end, the run of finished deliveries from the oldest unsettled one with a single
 * `multiple` ack, any others one by one. A delivery still being handled is never covered.
 */
export class ChannelAcks {
  /** Delivered and not yet acked or nacked, in delivery order (tags only grow on a channel). */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  private readonly finished = new Set<number>();
  private pending = false;

  constructor(private readonly ch: Channel) {}

  received(msg: ConsumeMessage): void {
    this.unsettled.set(msg.fields.deliveryTag, msg);
  }

  ack(msg: ConsumeMessage): void {
    this.finished.add(msg.fields.deliveryTag);
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => this.flush());
  }

  nack(msg: ConsumeMessage): void {
    this.unsettled.delete(msg.fields.deliveryTag);
    this.finished.delete(msg.fields.deliveryTag);
    this.settle(() => this.ch.nack(msg, false, true));
  }

  /** Sends the acks due now. */
  flush(): void {
    this.pending = false;
    if (this.finished.size === 0) return;
    let upTo: ConsumeMessage | undefined;
    for (const [tag, msg] of this.unsettled) {
      if (!this.finished.has(tag)) break;
      upTo = msg;
      this.unsettled.delete(tag);
      this.finished.delete(tag);
    }
    if (upTo) this.settle(() => this.ch.ack(upTo, true));
    for (const tag of this.finished) {
      const msg = this.unsettled.get(tag);
      this.unsettled.delete(tag);
      if (msg) this.settle(() => this.ch.ack(msg));
    }
    this.finished.clear();
  }

  private settle(send: () => void): void {
    try {
      send();
    } catch {
      // the channel closed: the broker redelivers whatever it had not been told of
    }
  }
}

/**
 * RabbitMQ: one durable topic exchange (routing key = event type); one durable queue per
 * consuming service bound to the types it subscribes to; per-service retry queues whose TTL
 * dead-letters back into the service's queue (growing delays); a per-service dead-letter queue
 * whose messages carry the failure reason and attempt count in headers. Publishes wait for
 * publisher confirms; consumers ack manually with a prefetch; the connection is re-established
 * with backoff and every subscription re-declared.
 */
/** A message of a dead-letter queue as the administration routes show it. */
export function toDeadLetter(m: Message): DeadLetter {
  const h = m.properties.headers ?? {};
  let envelope: EventEnvelope;
  try {
    envelope = JSON.parse(m.content.toString('utf8')) as EventEnvelope;
  } catch {
    envelope = { id: String(m.properties.messageId ?? 'unknown') } as EventEnvelope;
  }
  return {
    id: envelope.id,
    type: envelope.type,
    subject: envelope.subject,
    reason: String(h[REASON] ?? 'unknown'),
    attempts: Number(h[ATTEMPT] ?? 1),
    deadAt: String(h[DEAD_AT] ?? ''),
    envelope,
  };
}

/**
 * Takes up to `limit` messages of a queue (unacknowledged, on a channel of their own) and hands
 * them to `fn`, which acks or nacks each; the channel is closed after it.
 */
export async function withQueueMessages<T>(
  conn: ChannelModel,
  queue: string,
  limit: number,
  fn: (msgs: Message[], ch: Channel) => T | Promise<T>,
): Promise<T> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.assertQueue(queue, { durable: true });
    const msgs: Message[] = [];
    while (msgs.length < limit) {
      const m = await ch.get(queue, { noAck: false });
      if (!m) break;
      msgs.push(m);
    }
    return await fn(msgs, ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}
