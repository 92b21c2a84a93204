import type { AnalyticsDashboard, AnalyticsEvent, AnalyticsRebuild } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable, type Tx } from '@hms/platform';
import type { AggregateState, Bucket } from './domain/buckets.js';
import type { TotalRow } from './domain/dashboard.js';
import type { Fact, KeptEvent } from './domain/facts.js';
import type { DayRange } from './domain/days.js';
import type { DayRow } from './domain/reports.js';

/**
 * The only module of the Analytics service that speaks SQL (STYLE.md §5). Writers of the read
 * models hold `lockReadModels` first, so they take their turns and never deadlock on the hot rows.
 */

// ---- kept events

/** Keeps the events not kept yet (deferred: an event kept before is left as it is). */
export async function keepEvents(tx: Tx, events: readonly KeptEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  await tx.defer(
    `INSERT INTO events (id, type, subject, event_time, ids, facts, recorded_at)
     SELECT e.id, e.type, e.subject, e.event_time, e.ids::jsonb, e.facts::jsonb, $7
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
            WITH ORDINALITY AS e(id, type, subject, event_time, ids, facts, n)
      ORDER BY e.n
     ON CONFLICT (id) DO NOTHING`,
    [
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.subject),
      events.map((e) => e.time),
      events.map((e) => JSON.stringify(e.ids)),
      events.map((e) => JSON.stringify(e.facts)),
      now,
    ],
  );
}

/** A page of kept events' facts in the order they were recorded, after `afterSeq`. */
export async function keptFactsAfter(
  tx: Queryable,
  afterSeq: number,
  limit: number,
): Promise<{ lastSeq: number; events: number; facts: Fact[] }> {
  const { rows } = await tx.query<{ seq: number; facts: Fact[] }>(
    'SELECT seq, facts FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
    [afterSeq, limit],
  );
  return {
    lastSeq: rows.at(-1)?.seq ?? afterSeq,
    events: rows.length,
    facts: rows.flatMap((r) => r.facts),
  };
}

const EVENT_COLUMNS = 'seq, id, type, subject, event_time, ids';
const toEvent = rowMapper<AnalyticsEvent & { seq: number; eventTime: string }>(EVENT_COLUMNS);

/** Kept events, newest first, of a type and/or subject, before the sequence number `before`. */
export async function listEvents(
  db: Queryable,
  filter: { type?: string; subject?: string },
  before: number | undefined,
  limit: number,
): Promise<(AnalyticsEvent & { seq: number })[]> {
  const { params, bind } = sqlParams();
  const where: string[] = [];
  if (filter.type !== undefined) where.push(`type = ${bind(filter.type)}`);
  if (filter.subject !== undefined) where.push(`subject = ${bind(filter.subject)}`);
  if (before !== undefined) where.push(`seq < ${bind(before)}`);
  const { rows } = await db.query(
    `SELECT ${EVENT_COLUMNS} FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT ${bind(limit)}`,
    params,
  );
  return rows.map((r) => {
    const { eventTime, ...rest } = toEvent(r);
    return { ...rest, time: eventTime };
  });
}

// ---- aggregates and totals

/**
 * Locks the aggregates named (creating those not seen yet at version 0, no buckets) in key order,
 * and answers them as stored: another transaction applying facts of one of them waits here until
 * this one commits, then sees its version.
 */
export async function lockAggregates(
  tx: Tx,
  keys: readonly { kind: string; id: string }[],
): Promise<AggregateState[]> {
  if (keys.length === 0) return [];
  const { rows } = await tx.query<AggregateState>(
    `INSERT INTO aggregates (kind, id, version, buckets)
     SELECT k.kind, k.id, 0, '[]'::jsonb FROM unnest($1::text[], $2::text[]) AS k(kind, id)
      ORDER BY k.kind, k.id
     ON CONFLICT (kind, id) DO UPDATE SET version = aggregates.version
     RETURNING kind, id, version, buckets`,
    [keys.map((k) => k.kind), keys.map((k) => k.id)],
    { prepare: true },
  );
  return rows;
}

/** Stores the aggregates' new versions and buckets (deferred: nothing is read back). */
export async function writeAggregates(tx: Tx, writes: readonly AggregateState[]): Promise<void> {
  if (writes.length === 0) return;
  await tx.defer(
    `UPDATE aggregates a SET version = w.version, buckets = w.buckets::jsonb
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS w(kind, id, version, buckets)
      WHERE a.kind = w.kind AND a.id = w.id`,
    [
      writes.map((w) => w.kind),
      writes.map((w) => w.id),
      writes.map((w) => w.version),
      writes.map((w) => JSON.stringify(w.buckets)),
    ],
  );
}

/** Adds deltas to the daily totals, in key order (deferred). */
export async function addToTotals(tx: Tx, deltas: readonly Bucket[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.defer(
    `INSERT INTO daily_totals (day, metric, dimension, currency, count, amount)
     SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
      ORDER BY 1, 2, 3, 4
     ON CONFLICT (day, metric, dimension, currency) DO UPDATE
       SET count = daily_totals.count + excluded.count, amount = daily_totals.amount + excluded.amount`,
    [
      deltas.map((d) => d.day),
      deltas.map((d) => d.metric),
      deltas.map((d) => d.dimension),
      deltas.map((d) => d.currency),
      deltas.map((d) => d.count),
      deltas.map((d) => d.amount),
    ],
  );
}

/** The totals of a range of days, summed per metric, dimension and currency. */
export async function totalsBetween(db: Queryable, range: DayRange): Promise<TotalRow[]> {
  const { rows } = await db.query<TotalRow>(
    `SELECT metric, dimension, currency, sum(count)::bigint AS count, sum(amount)::bigint AS amount
       FROM daily_totals WHERE day BETWEEN $1 AND $2 GROUP BY metric, dimension, currency`,
    [range.from, range.to],
    { prepare: true },
  );
  return rows;
}

/** The totals of each day of a range. */
export async function totalsByDay(db: Queryable, range: DayRange): Promise<DayRow[]> {
  const { rows } = await db.query<DayRow>(
    `SELECT day, metric, dimension, currency, count, amount FROM daily_totals
      WHERE day BETWEEN $1 AND $2 AND (count <> 0 OR amount <> 0) ORDER BY day`,
    [range.from, range.to],
  );
  return rows;
}

/**
 * Serialises the writers of the read models (consumer transactions, a rebuild) until the
 * caller's transaction ends: every event moves a few hot rows (today's totals), and two inbox
 * batches touching them in different orders would deadlock. Readers never wait for it. Taken
 * once per transaction (the inbox applies a batch of events in one).
 */
export async function lockReadModels(tx: Tx): Promise<void> {
  if (locked.has(tx)) return;
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('analytics:read-models'))", [], { prepare: true });
  locked.add(tx);
}
const locked = new WeakSet<Tx>();

/** A rebuild's first step, under `lockReadModels`: readers see the old numbers until it commits. */
export async function clearReadModels(tx: Tx): Promise<void> {
  await tx.query('DELETE FROM aggregates');
  await tx.query('DELETE FROM daily_totals');
}

// ---- rebuilds

const REBUILD_COLUMNS = 'id, state, requested_by, requested_at, finished_at, events';
const toRebuild = rowMapper<AnalyticsRebuild>(REBUILD_COLUMNS);

export async function insertRebuild(
  db: Queryable,
  id: string,
  requestedBy: string,
  now: Date,
): Promise<AnalyticsRebuild> {
  const { rows } = await db.query(
    `INSERT INTO rebuilds (id, state, requested_by, requested_at) VALUES ($1, 'pending', $2, $3)
     RETURNING ${REBUILD_COLUMNS}`,
    [id, requestedBy, now],
  );
  return toRebuild(rows[0] as object);
}

export async function getRebuild(db: Queryable, id: string): Promise<AnalyticsRebuild | undefined> {
  const { rows } = await db.query(`SELECT ${REBUILD_COLUMNS} FROM rebuilds WHERE id = $1`, [id]);
  return rows[0] ? toRebuild(rows[0]) : undefined;
}

/** The pending rebuilds, locked for the transaction that runs them. */
export async function pendingRebuilds(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    "SELECT id FROM rebuilds WHERE state = 'pending' ORDER BY requested_at FOR UPDATE",
  );
  return rows.map((r) => r.id);
}

export async function completeRebuilds(
  tx: Tx,
  ids: readonly string[],
  now: Date,
  events: number,
): Promise<void> {
  await tx.query(
    `UPDATE rebuilds SET state = 'completed', finished_at = $2, events = $3 WHERE id = ANY ($1::uuid[])`,
    [ids, now, events],
  );
}

// ---- the dashboard last published

export async function publishedDashboard(tx: Queryable): Promise<AnalyticsDashboard | undefined> {
  const { rows } = await tx.query<{ dashboard: AnalyticsDashboard }>(
    'SELECT dashboard FROM published_dashboard',
  );
  return rows[0]?.dashboard;
}

export async function setPublishedDashboard(
  tx: Queryable,
  dashboard: AnalyticsDashboard,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO published_dashboard (singleton, dashboard, published_at) VALUES (true, $1, $2)
     ON CONFLICT (singleton) DO UPDATE SET dashboard = excluded.dashboard, published_at = excluded.published_at`,
    [JSON.stringify(dashboard), now],
  );
}
