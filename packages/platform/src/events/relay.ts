import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/types.js';
import type { EventBus, StoredEnvelope } from './bus.js';
import type { EventMetrics } from './metrics.js';
import { SpanKind, withSpan } from '../tracing.js';

export interface RelayOptions {
  /** Rows read and published at a time (default 200). */
  batchSize?: number;
  /** Batches published and not yet confirmed, at most (default 2). */
  maxInFlight?: number;
  /**
   * Where `drain()` takes its lock and reads and marks rows: a database handle of its own (one
   * connection), so that a request pool saturated by the very transactions the relay publishes
   * cannot starve it. Defaults to the service's `db`.
   */
  connection?: Db;
  metrics?: EventMetrics;
  logger?: Logger;
}

interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  traceparent: string | null;
  json: string;
}

function storedEnvelope(r: OutboxRow): StoredEnvelope {
  return r.traceparent
    ? { id: r.id, type: r.type, traceparent: r.traceparent, json: r.json }
    : { id: r.id, type: r.type, json: r.json };
}

/** A published batch waiting for its confirms, then to be marked sent. */
interface InFlight {
  seqs: number[];
  /** Settles with the broker's answer; never rejects (an unhandled rejection would end the process). */
  outcome: Promise<{ ok: true } | { ok: false; err: unknown }>;
  done: boolean;
}

/**
 * Publishes committed outbox rows in `seq` order with publisher confirms, then marks them sent.
 * One relay runs per service at a time (advisory lock, taken once per cycle), so rows go out in
 * order and, while the relay is healthy, once. If the broker is down the rows stay pending and the
 * next run sends them; if the process dies between confirm and mark, they are sent again and
 * consumers' inboxes absorb the duplicate.
 *
 * Batches are pipelined: the next batch is read and published while the previous one's confirms
 * are outstanding. The bus writes each batch on one channel in the order given, so the broker
 * receives rows in `seq` order; rows are marked in bulk, oldest batch first, once confirmed. When
 * a batch is refused, nothing after it is marked (it is all sent again, in order, next cycle).
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly connection: Db;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly opts: RelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 200;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
    this.connection = opts.connection ?? db;
  }

  /** Publishes until the outbox is empty; answers how many rows it sent. */
  async drain(): Promise<number> {
    const result = await this.connection.withLock('outbox-relay', (conn) => this.cycle(conn), {
      wait: false,
    });
    return result.acquired ? result.value : 0;
  }

  /**
   * Reads, publishes and marks until a read comes back short (the outbox was empty behind it) and
   * every published row is marked; after a full batch it reads the next one at once, with up to
   * `maxInFlight` batches unconfirmed. Queries on `conn` never overlap. Rows committed during the
   * last confirms are the next cycle's: every outbox commit triggers one.
   */
  private async cycle(conn: Queryable): Promise<number> {
    const inFlight: InFlight[] = [];
    let sent = 0;
    for (;;) {
      // not "seq > the last one read": a transaction that took a lower seq may commit later
      // the envelope as the text it was checked and stored as (appendToOutbox): published as it
      // is, not parsed and serialised again
      const { rows } = await conn.query<OutboxRow>(
        `SELECT seq, envelope->>'id' AS id, type, envelope->>'traceparent' AS traceparent, envelope::text AS json
           FROM outbox
          WHERE published_at IS NULL AND seq <> ALL($2::bigint[]) ORDER BY seq LIMIT $1`,
        [this.batchSize, inFlight.flatMap((b) => b.seqs)],
        { prepare: true },
      );
      if (rows.length > 0) inFlight.push(this.publish(rows));
      const full = rows.length === this.batchSize;
      sent += await this.markConfirmed(conn, inFlight, full ? this.maxInFlight - 1 : 0);
      if (!full) return sent;
    }
  }

  private publish(rows: readonly OutboxRow[]): InFlight {
    const batch: InFlight = {
      seqs: rows.map((r) => r.seq),
      done: false,
      outcome: withSpan(
        'outbox publish',
        SpanKind.PRODUCER,
        undefined,
        { 'messaging.batch.message_count': rows.length },
        () => this.bus.publish(rows.map(storedEnvelope)),
      ).then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    };
    void batch.outcome.then(() => (batch.done = true));
    return batch;
  }

  /**
   * Waits until at most `keep` batches are unconfirmed, then marks every confirmed batch at the
   * head of `inFlight` in one UPDATE; throws the broker's error for a refused batch, after marking
   * the ones before it.
   */
  private async markConfirmed(conn: Queryable, inFlight: InFlight[], keep: number): Promise<number> {
    const seqs: number[] = [];
    let failure: { err: unknown } | undefined;
    while (inFlight.length > 0) {
      const head = inFlight[0] as InFlight;
      if (inFlight.length <= keep && !head.done) break;
      const outcome = await head.outcome;
      if (!outcome.ok) {
        failure = outcome;
        break;
      }
      seqs.push(...head.seqs);
      inFlight.shift();
    }
    if (seqs.length > 0)
      await conn.query('UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [seqs], {
        prepare: true,
      });
    if (failure) throw failure.err;
    return seqs.length;
  }

  async backlog(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    const n = rows[0]?.n ?? 0;
    this.opts.metrics?.outboxBacklog.set(n);
    return n;
  }

  /** Published rows are kept a while for diagnosis, then removed. */
  async prune(retentionHours: number): Promise<void> {
    await this.db.query(
      'DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)',
      [retentionHours],
    );
  }
}
