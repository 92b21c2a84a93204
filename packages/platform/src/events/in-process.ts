import type { EventEnvelope } from '@hms/contracts';
import {
  DEFAULT_PREFETCH,
  DEFAULT_RETRY,
  PermanentEventError,
  failureReason,
  isStored,
  matchesType,
  retryDelay,
  type DeadLetter,
  type EventBus,
  type Publishable,
  type RetryPolicy,
  type Subscription,
} from './bus.js';
import { KeyedSerialExecutor } from './ordering.js';
import type { EventMetrics } from './metrics.js';

interface Consumer {
  sub: Subscription;
  executor: KeyedSerialExecutor;
  deadLetters: DeadLetter[];
}

/**
 * The embedded bus: the same topology as RabbitMQ in one process. Each consumer has its own
 * queue (fan-out), deliveries are asynchronous and carry a copy of the envelope as it would
 * arrive off the wire, failures retry after the same growing delays, then dead-letter.
 * Deliveries in flight are lost with the process (the outbox keeps what was not yet published).
 */
export class InProcessBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly consumers = new Map<string, Consumer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private consuming = true;

  constructor(
    private readonly opts: { retry?: RetryPolicy; prefetch?: number; metrics?: EventMetrics } = {},
  ) {}

  private get retry(): RetryPolicy {
    return this.opts.retry ?? DEFAULT_RETRY;
  }

  async publish(envelopes: readonly Publishable[]): Promise<void> {
    for (const envelope of envelopes) {
      const wire = isStored(envelope) ? envelope.json : JSON.stringify(envelope);
      this.opts.metrics?.published.inc({ type: envelope.type });
      for (const consumer of this.consumers.values()) {
        if (matchesType(consumer.sub.types, envelope.type)) this.deliver(consumer, wire, 1);
      }
    }
  }

  async subscribe(sub: Subscription): Promise<void> {
    if (this.consumers.has(sub.consumer)) throw new Error(`${sub.consumer} already subscribed`);
    this.consumers.set(sub.consumer, {
      sub,
      executor: new KeyedSerialExecutor(this.opts.prefetch ?? DEFAULT_PREFETCH),
      deadLetters: [],
    });
  }

  private deliver(consumer: Consumer, wire: string, attempt: number): void {
    if (!this.consuming) return;
    const envelope = JSON.parse(wire) as EventEnvelope;
    void consumer.executor
      .run(envelope.subject, () => consumer.sub.handler(envelope, { attempt }))
      .then(
        () => this.opts.metrics?.consumed.inc({ consumer: consumer.sub.consumer, type: envelope.type }),
        (err: unknown) => this.fail(consumer, wire, envelope, attempt, err),
      );
  }

  private fail(
    consumer: Consumer,
    wire: string,
    envelope: EventEnvelope,
    attempt: number,
    err: unknown,
  ): void {
    const labels = { consumer: consumer.sub.consumer, type: envelope.type };
    if (err instanceof PermanentEventError || attempt >= this.retry.maxAttempts) {
      this.opts.metrics?.deadLettered.inc(labels);
      consumer.deadLetters.push({
        id: envelope.id,
        type: envelope.type,
        subject: envelope.subject,
        reason: failureReason(err),
        attempts: attempt,
        deadAt: new Date().toISOString(),
        envelope: JSON.parse(wire) as EventEnvelope,
      });
      return;
    }
    this.opts.metrics?.retried.inc(labels);
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.deliver(consumer, wire, attempt + 1);
      },
      retryDelay(this.retry, attempt),
    );
    this.timers.add(timer);
  }

  async listDeadLetters(consumer: string, limit = 100): Promise<DeadLetter[]> {
    return (this.consumers.get(consumer)?.deadLetters ?? []).slice(0, limit);
  }

  async replayDeadLetters(consumer: string, ids?: readonly string[]): Promise<number> {
    const c = this.consumers.get(consumer);
    if (!c) return 0;
    const chosen = c.deadLetters.filter((d) => !ids || ids.includes(d.id));
    c.deadLetters = c.deadLetters.filter((d) => !chosen.includes(d));
    for (const d of chosen) this.deliver(c, JSON.stringify(d.envelope), 1);
    return chosen.length;
  }

  async deadLetterDepth(consumer: string): Promise<number> {
    return this.consumers.get(consumer)?.deadLetters.length ?? 0;
  }

  async ping(): Promise<void> {}

  async stopConsuming(): Promise<void> {
    this.consuming = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.consumers.values()].map((c) => c.executor.drain()));
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.consumers.clear();
  }
}
