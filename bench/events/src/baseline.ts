import { once } from 'node:events';
import { buildEnvelope } from '@hms/platform';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { registration } from './events.js';

/**
 * The baseline's publishing side: plain amqplib, a confirm channel, persistent messages to a
 * durable queue, each message the same size as the full path's (a real envelope, built
 * beforehand), waiting for the broker's confirm. No outbox, no database, no kit.
 */
export class RawPublisher {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
    private readonly queue: string,
  ) {}

  static async open(url: string, queue: string): Promise<RawPublisher> {
    const conn = await amqp.connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    return new RawPublisher(conn, ch, queue);
  }

  get brokerVersion(): string {
    return this.conn.connection.serverProperties.version;
  }

  /** Messages ready to send: `[messageId, body]`. */
  static messages(n: number): [string, Buffer][] {
    return Array.from({ length: n }, () => {
      const envelope = buildEnvelope('patient', registration());
      return [envelope.id, Buffer.from(JSON.stringify(envelope))];
    });
  }

  /**
   * Sends one message; `confirmed` settles with the broker's confirm. When the socket's buffer is
   * full it first waits for it to drain, as a well-behaved publisher does.
   */
  async send(id: string, body: Buffer): Promise<{ confirmed: Promise<void> }> {
    let written = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      written = this.ch.publish(
        '',
        this.queue,
        body,
        { persistent: true, messageId: id, contentType: 'application/cloudevents+json' },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('nacked')) : resolve()),
      );
    });
    confirmed.catch(() => undefined); // the caller awaits it
    if (!written) await once(this.ch, 'drain');
    return { confirmed };
  }

  async close(): Promise<void> {
    await this.ch.close();
    await this.conn.close();
  }
}
