import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const byRegistry = new WeakMap<Registry, EventMetrics>();

/** The event metrics of a registry, created once (the bus and the runtime share them). */
export function eventMetricsFor(registry: Registry): EventMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = createEventMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}

/** Event counters (DESIGN.md §6): published, consumed, retried, dead-lettered, lag, backlog, DLQ depth. */
function createEventMetrics(registry: Registry) {
  const registers = [registry];
  return {
    published: new Counter({
      name: 'events_published_total',
      help: 'events confirmed by the broker',
      labelNames: ['type'] as const,
      registers,
    }),
    consumed: new Counter({
      name: 'events_consumed_total',
      help: 'events handled',
      labelNames: ['consumer', 'type'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'events_duplicate_total',
      help: 'redelivered events skipped by the inbox',
      labelNames: ['consumer', 'type'] as const,
      registers,
    }),
    retried: new Counter({
      name: 'events_retried_total',
      help: 'failed deliveries scheduled for retry',
      labelNames: ['consumer', 'type'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'events_dead_lettered_total',
      help: 'events moved to a dead-letter queue',
      labelNames: ['consumer', 'type'] as const,
      registers,
    }),
    lag: new Histogram({
      name: 'event_consumer_lag_seconds',
      help: 'time from an event being produced to its effect committing',
      labelNames: ['consumer'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
      registers,
    }),
    outboxBacklog: new Gauge({ name: 'outbox_backlog', help: 'outbox rows not yet published', registers }),
    dlqDepth: new Gauge({
      name: 'dead_letter_queue_depth',
      help: 'events waiting in the dead-letter queue',
      labelNames: ['consumer'] as const,
      registers,
    }),
  };
}

export type EventMetrics = ReturnType<typeof createEventMetrics>;
