import { assertValidEvent, EventSchemaError, type EventEnvelope, type EventType } from '@hms/contracts';
import type { Logger } from 'pino';
import { runWithContext } from '../context.js';
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
  return async (envelope, info) => {
    try {
      assertValidEvent(envelope);
    } catch (err) {
      if (err instanceof EventSchemaError) throw new PermanentEventError(err.message);
      throw err;
    }
    await runWithContext({ requestId: envelope.id, traceparent: envelope.traceparent }, async () => {
      const applied = await opts.db.transaction(async (tx) => {
        const inserted = await tx.query(
          'INSERT INTO inbox (consumer, event_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [opts.consumer, envelope.id, envelope.type],
        );
        if (inserted.rowCount === 0) return false;
        await opts.handle(tx, envelope);
        return true;
      });
      const labels = { consumer: opts.consumer, type: envelope.type };
      if (applied) {
        opts.metrics?.lag.observe(
          { consumer: opts.consumer },
          Math.max(0, Date.now() - Date.parse(envelope.time)) / 1000,
        );
      } else {
        opts.metrics?.duplicates.inc(labels);
        opts.logger?.debug(
          { eventId: envelope.id, type: envelope.type, attempt: info.attempt },
          'duplicate event skipped',
        );
      }
    });
  };
}
