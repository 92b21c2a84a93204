import type { EventEnvelope } from '@hms/contracts';
import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/types.js';
import type { EventBus } from './bus.js';
import type { EventMetrics } from './metrics.js';
import { SpanKind, withSpan } from '../tracing.js';

/**
 * Publishes committed outbox rows in `seq` order with publisher confirms, then marks them sent.
 * One relay runs per service at a time (advisory lock), so rows go out in order and, while the
 * relay is healthy, once. If the broker is down the rows stay pending and the next run sends
 * them; if the process dies between confirm and mark, they are sent again and consumers' inboxes
 * absorb the duplicate.
 */
export class OutboxRelay {
  private readonly batchSize: number;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly opts: { batchSize?: number; metrics?: EventMetrics; logger?: Logger } = {},
  ) {
    this.batchSize = opts.batchSize ?? 200;
  }

  /** Publishes until the outbox is empty; answers how many rows it sent. */
  async drain(): Promise<number> {
    const result = await this.db.withLock(
      'outbox-relay',
      async (conn) => {
        let total = 0;
        for (;;) {
          const sent = await this.publishBatch(conn);
          total += sent;
          if (sent < this.batchSize) break;
        }
        return total;
      },
      { wait: false },
    );
    return result.acquired ? result.value : 0;
  }

  private async publishBatch(conn: Queryable): Promise<number> {
    const { rows } = await conn.query<{ seq: number; envelope: EventEnvelope }>(
      'SELECT seq, envelope FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1',
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    await withSpan(
      'outbox publish',
      SpanKind.PRODUCER,
      undefined,
      { 'messaging.batch.message_count': rows.length },
      () => this.bus.publish(rows.map((r) => r.envelope)),
    );
    await conn.query('UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [
      rows.map((r) => r.seq),
    ]);
    return rows.length;
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
