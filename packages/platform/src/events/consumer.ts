import { assertValidEvent, EventSchemaError, type EventEnvelope, type EventType } from '@hms/contracts';
import type { Logger } from 'pino';
import { runWithContext } from '../context.js';
import { SpanKind, withSpan } from '../tracing.js';
import type { Db, Tx } from '../db/types.js';
import { PermanentEventError, type EventHandler } from './bus.js';
import type { EventMetrics } from './metrics.js';

/** What a service consumes: the types, and the effect to apply inside the inbox transaction. */
export interface EventConsumer {
  types: readonly EventType[] | readonly ['*'];
  /** Applies the event's effect. Runs in the transaction that records the event in the inbox. */
  handle: (tx: Tx, envelope: EventEnvelope) => Promise<void>;
}

/**
 * Wraps a consumer's effect: the envelope is checked against its schema (a broken one is
 * dead-lettered at once), the work context carries the event's trace, and the effect commits
 * together with the inbox row keyed by event id, so a redelivered event has its effect once.
 */
export function inboxHandler(opts: {
  db: Db;
  consumer: string;
  handle: EventConsumer['handle'];
  metrics?: EventMetrics;
  logger?: Logger;
}): EventHandler {
  const handler: EventHandler = async (envelope, info) => {
    try {
      assertValidEvent(envelope);
    } catch (err) {
      if (err instanceof EventSchemaError) throw new PermanentEventError(err.message);
      throw err;
    }
    const attrs = {
      'messaging.operation': 'process',
      'messaging.message.id': envelope.id,
      'hms.event.type': envelope.type,
      'hms.consumer': opts.consumer,
    };
    await withSpan(
      `consume ${envelope.type}`,
      SpanKind.CONSUMER,
      envelope.traceparent,
      attrs,
      (traceparent) =>
        runWithContext({ requestId: envelope.id, traceparent }, () => applyOnce(envelope, info.attempt)),
    );
  };

  return handler;

  async function applyOnce(envelope: EventEnvelope, attempt: number): Promise<void> {
    const applied = await opts.db.transaction(async (tx) => {
      const inserted = await tx.query(
        'INSERT INTO inbox (consumer, event_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [opts.consumer, envelope.id, envelope.type],
      );
      if (inserted.rowCount === 0) return false;
      await opts.handle(tx, envelope);
      return true;
    });
    if (applied) {
      const lagSec = Math.max(0, Date.now() - Date.parse(envelope.time)) / 1000;
      opts.metrics?.lag.observe({ consumer: opts.consumer }, lagSec);
    } else {
      opts.metrics?.duplicates.inc({ consumer: opts.consumer, type: envelope.type });
      opts.logger?.debug({ eventId: envelope.id, type: envelope.type, attempt }, 'duplicate event skipped');
    }
  }
}
