import { assertValidEvent, EventSchemaError, type EventEnvelope, type EventType } from '@hms/contracts';
import type { Logger } from 'pino';
import { currentContext, runWithContext, type WorkContext } from '../context.js';
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

export interface InboxOptions {
  db: Db;
  consumer: string;
  handle: EventConsumer['handle'];
  metrics?: EventMetrics;
  logger?: Logger;
  /** Most deliveries applied in one transaction (default 32). */
  maxBatch?: number;
  /** Most inbox transactions open at once (default 2): one commits while the next batch forms. */
  maxTransactions?: number;
}

/** A delivery waiting for its inbox transaction. */
interface Waiting {
  envelope: EventEnvelope;
  attempt: number;
  /** The delivery's work context (its trace), in which its effect runs. */
  context: WorkContext | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Wraps a consumer's effect: the envelope is checked against its schema (a broken one is
 * dead-lettered at once), the work context carries the event's trace, and the effect commits
 * together with the inbox row keyed by event id, so a redelivered event has its effect once.
 *
 * Group commit: deliveries waiting at the same moment (the bus runs up to its prefetch of them at
 * once, never two of one subject) are applied in ONE transaction — one multi-row inbox insert,
 * then the effect of each event it newly inserted, in arrival order, then one COMMIT — and each
 * delivery resolves only after that commit. A disk that syncs a few hundred times a second then
 * carries many events per sync. If the batch fails, its events are applied again one transaction
 * each, so only the event that fails is retried or dead-lettered. Handlers see no difference.
 */
export function inboxHandler(opts: InboxOptions): EventHandler {
  const maxBatch = opts.maxBatch ?? 32;
  const maxTransactions = opts.maxTransactions ?? 2;
  const waiting: Waiting[] = [];
  let open = 0;
  let scheduled = false;

  return async (envelope, info) => {
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
        runWithContext(
          { requestId: envelope.id, traceparent },
          () =>
            new Promise<void>((resolve, reject) => {
              waiting.push({ envelope, attempt: info.attempt, context: currentContext(), resolve, reject });
              schedule();
            }),
        ),
    );
  };

  /**
   * Starts the next batch on the next turn of the event loop, so that every delivery that
   * arrived in the current one (a socket read holds many) joins it.
   */
  function schedule(): void {
    if (scheduled || open >= maxTransactions || waiting.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      while (open < maxTransactions && waiting.length > 0) {
        open += 1;
        void applyBatch(waiting.splice(0, maxBatch)).finally(() => {
          open -= 1;
          schedule();
        });
      }
    });
  }

  async function applyBatch(batch: Waiting[]): Promise<void> {
    let applied: boolean[];
    try {
      applied = await opts.db.transaction(async (tx) => {
        const fresh = await insertInbox(tx, batch);
        // a delivery whose id is twice in the batch (a redelivery) is applied at its first place
        const mine = batch.map((w) => fresh.delete(w.envelope.id.toLowerCase()));
        for (const [k, w] of batch.entries()) if (mine[k]) await effect(tx, w);
        return mine;
      });
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      opts.logger?.debug(
        { err, events: batch.length },
        'inbox batch failed; applying its events one transaction each',
      );
      // in arrival order, so a caller that did send one subject twice still sees its order
      for (const w of batch) await applyAlone(w);
      return;
    }
    for (const [k, w] of batch.entries()) settled(w, applied[k] ?? false);
  }

  async function applyAlone(w: Waiting): Promise<void> {
    try {
      const applied = await opts.db.transaction(async (tx) => {
        if ((await insertInbox(tx, [w])).size === 0) return false;
        await effect(tx, w);
        return true;
      });
      settled(w, applied);
    } catch (err) {
      w.reject(err);
    }
  }

  /** Records the batch in the inbox; answers the ids (lower case) that were not there yet. */
  async function insertInbox(tx: Tx, batch: readonly Waiting[]): Promise<Set<string>> {
    const { rows } = await tx.query<{ event_id: string }>(
      `INSERT INTO inbox (consumer, event_id, type)
       SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS e(id, type, n)
       ORDER BY e.n
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [opts.consumer, batch.map((w) => w.envelope.id), batch.map((w) => w.envelope.type)],
      { prepare: true },
    );
    return new Set(rows.map((r) => r.event_id.toLowerCase()));
  }

  function effect(tx: Tx, w: Waiting): Promise<void> {
    const run = () => opts.handle(tx, w.envelope);
    return w.context ? runWithContext(w.context, run) : run();
  }

  function settled(w: Waiting, applied: boolean): void {
    const { envelope } = w;
    if (applied) {
      const lagSec = Math.max(0, Date.now() - Date.parse(envelope.time)) / 1000;
      opts.metrics?.lag.observe({ consumer: opts.consumer }, lagSec);
    } else {
      opts.metrics?.duplicates.inc({ consumer: opts.consumer, type: envelope.type });
      opts.logger?.debug(
        { eventId: envelope.id, type: envelope.type, attempt: w.attempt },
        'duplicate event skipped',
      );
    }
    w.resolve();
  }
}
