import type { EventEnvelope } from '@hms/contracts';

/**
 * The event bus (DESIGN.md §5), one interface over RabbitMQ (cluster) and an in-process bus
 * (embedded) with the same routing, retry and dead-letter behaviour:
 * - a published event reaches every consuming service subscribed to its type (fan-out), once
 *   per service, however many replicas that service runs;
 * - a handler that throws is retried after growing delays; after `maxAttempts`, or at once for a
 *   `PermanentEventError`, the event goes to the service's dead-letter queue with the reason and
 *   the attempt count, and later events keep flowing;
 * - dead letters can be listed and replayed.
 */
export interface DeliveryInfo {
  /** 1 on first delivery. */
  attempt: number;
}

export type EventHandler = (envelope: EventEnvelope, info: DeliveryInfo) => Promise<void>;

export interface Subscription {
  /** The consuming service; one queue per consumer. */
  consumer: string;
  /** Event types to receive; `['*']` for every type. */
  types: readonly string[];
  handler: EventHandler;
}

export interface DeadLetter {
  id: string;
  type: string;
  subject: string;
  reason: string;
  attempts: number;
  deadAt: string;
  envelope: EventEnvelope;
}

export interface RetryPolicy {
  /** Deliveries in all, the first included, before an event is dead-lettered. */
  maxAttempts: number;
  /** Delay before retry n (n = 1…); the last one repeats. */
  delaysMs: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, delaysMs: [1_000, 5_000, 30_000, 120_000] };

/**
 * Unacked deliveries per consumer (`EVENT_PREFETCH`), which is also how many handlers may run at
 * once (one per subject at most). Large enough that the inbox can group one batch of deliveries
 * into a transaction while the previous batch commits (events/consumer.ts).
 */
export const DEFAULT_PREFETCH = 64;

/**
 * An envelope in the form the outbox stores it: checked against its schema when it was appended
 * (`buildEnvelope`) and serialised then. The relay publishes it as it is, without parsing it and
 * serialising it again.
 */
export interface StoredEnvelope {
  readonly id: string;
  readonly type: string;
  readonly traceparent?: string;
  /** The envelope's JSON text. */
  readonly json: string;
}

export type Publishable = EventEnvelope | StoredEnvelope;

export function isStored(e: Publishable): e is StoredEnvelope {
  return typeof (e as StoredEnvelope).json === 'string';
}

export interface EventBus {
  readonly kind: 'rabbitmq' | 'in-process';
  /** Resolves once the broker has confirmed every envelope, in the order given. */
  publish(envelopes: readonly Publishable[]): Promise<void>;
  subscribe(sub: Subscription): Promise<void>;
  listDeadLetters(consumer: string, limit?: number): Promise<DeadLetter[]>;
  /** Puts dead letters (all, or those ids) back on the consumer's queue with a fresh attempt count. */
  replayDeadLetters(consumer: string, ids?: readonly string[]): Promise<number>;
  deadLetterDepth(consumer: string): Promise<number>;
  ping(): Promise<void>;
  /** Stops taking new deliveries and waits for handlers in flight. */
  stopConsuming(): Promise<void>;
  close(): Promise<void>;
}

/** A failure no retry can fix (an envelope that breaks its schema): dead-lettered at once. */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEventError';
  }
}

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const d = policy.delaysMs;
  return d[Math.min(attempt - 1, d.length - 1)] ?? 1000;
}

/** What a dead letter records as its reason: the error's kind and message, bounded. */
export function failureReason(err: unknown): string {
  if (!(err instanceof Error)) return 'handler failed';
  const code = (err as { code?: unknown }).code;
  // a database error's message may quote the values it was given: keep only its code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `${err.name}: database error ${code}`;
  return `${err.name}: ${err.message}`.slice(0, 500);
}

export function matchesType(types: readonly string[], type: string): boolean {
  return types.includes('*') || types.includes(type);
}
