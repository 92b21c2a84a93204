import type {
  Appointment,
  AppointmentHistoryEntry,
  AppointmentStatus,
  AppointmentType,
  AppointmentTypeInput,
} from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable, type Tx } from '@hms/platform';
import type { Booking } from '@hms/scheduling';
import type { PatientEntry, StaffEntry } from './copies.js';

/** The only module of the Appointment service that speaks SQL (STYLE.md §5). */

// ---- appointment types

const TYPE_COLUMNS = `code, name, duration_min, buffer_before_min, buffer_after_min, active, version, created_at, updated_at`;
const toType = rowMapper<AppointmentType>(TYPE_COLUMNS);

/** Inserts a type unless its code exists; undefined when it did. */
export async function insertType(
  db: Queryable,
  t: Required<AppointmentTypeInput>,
  now: Date,
): Promise<AppointmentType | undefined> {
  const { rows } = await db.query(
    `INSERT INTO appointment_types (code, name, duration_min, buffer_before_min, buffer_after_min, active, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (code) DO NOTHING RETURNING ${TYPE_COLUMNS}`,
    [t.code, t.name, t.durationMin, t.bufferBeforeMin, t.bufferAfterMin, t.active, now],
  );
  return rows[0] ? toType(rows[0]) : undefined;
}

export async function getType(
  db: Queryable,
  code: string,
  forUpdate = false,
): Promise<AppointmentType | undefined> {
  const { rows } = await db.query(
    `SELECT ${TYPE_COLUMNS} FROM appointment_types WHERE code = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [code],
    { prepare: true },
  );
  return rows[0] ? toType(rows[0]) : undefined;
}

export async function updateType(
  tx: Queryable,
  t: Required<AppointmentTypeInput>,
  now: Date,
): Promise<AppointmentType> {
  const { rows } = await tx.query(
    `UPDATE appointment_types SET name = $2, duration_min = $3, buffer_before_min = $4, buffer_after_min = $5,
        active = $6, version = version + 1, updated_at = $7
      WHERE code = $1 RETURNING ${TYPE_COLUMNS}`,
    [t.code, t.name, t.durationMin, t.bufferBeforeMin, t.bufferAfterMin, t.active, now],
  );
  return toType(rows[0] as object);
}

export async function listTypes(
  db: Queryable,
  opts: { active?: boolean | undefined; after?: string | undefined; limit: number },
): Promise<AppointmentType[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (opts.active !== undefined) where.push(`active = ${bind(opts.active)}`);
  if (opts.after) where.push(`code > ${bind(opts.after)}`);
  const { rows } = await db.query(
    `SELECT ${TYPE_COLUMNS} FROM appointment_types WHERE ${where.join(' AND ')} ORDER BY code LIMIT ${bind(opts.limit + 1)}`,
    params,
  );
  return rows.map((r) => toType(r as object));
}

// ---- appointments

const SELECT = `id, patient_id, staff_id, type, starts_at AS start, ends_at AS "end", buffer_before_min,
  buffer_after_min, reason, location, series_id, status, cancellation_reason, history, version, created_at, updated_at`;
const toAppointment = rowMapper<Appointment>(
  `id, patient_id, staff_id, type, start, end, buffer_before_min, buffer_after_min, reason, location, series_id,
   status, cancellation_reason, history, version, created_at, updated_at`,
);

export interface NewAppointment {
  id: string;
  patientId: string;
  staffId: string;
  type: string;
  start: number;
  end: number;
  bufferBeforeMin: number;
  bufferAfterMin: number;
  reason?: string | undefined;
  location?: string | undefined;
  seriesId?: string | undefined;
  history: AppointmentHistoryEntry[];
}

/**
 * Queues this transaction behind every other one writing an active appointment of the same
 * staff member or patient (transaction advisory locks, always taken in one order). Two writes
 * that could overlap share one of them, so the second finds the first committed and its
 * exclusion constraint fails at once; without the queue, two inserts that each reach the other's
 * uncommitted index entry wait for each other, a deadlock PostgreSQL breaks only after
 * `deadlock_timeout` with 40P01 (seen at 50 parallel bookings of one patient across two staff).
 */
export async function lockBookings(
  tx: Tx,
  of: readonly { staffId: string; patientId: string }[],
): Promise<void> {
  const keys = [
    ...new Set(of.flatMap((a) => [`appointment:staff:${a.staffId}`, `appointment:patient:${a.patientId}`])),
  ].sort();
  // one round trip: unnest keeps the array's (sorted) order, so the locks are taken in that order
  // deferred: it goes out with the INSERT that follows, one round trip, and still runs first;
  // the locks are taken in the CTE, which is read, and the statement answers no row (a deferred
  // statement's rows are not read)
  const lock = `WITH l AS MATERIALIZED (SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) AS n FROM unnest($1::text[]) AS k)
    SELECT FROM l WHERE n < 0`;
  await tx.defer(lock, [keys]);
}

/** Inserts appointments (a series: all in one statement); the exclusion constraints decide overlaps. */
export async function insertAppointments(
  tx: Queryable,
  list: readonly NewAppointment[],
  now: Date,
): Promise<Appointment[]> {
  const col = <T>(f: (a: NewAppointment) => T) => list.map(f);
  const { rows } = await tx.query(
    `INSERT INTO appointments (id, patient_id, staff_id, type, starts_at, ends_at, buffer_before_min, buffer_after_min,
        busy_from, busy_to, reason, location, series_id, status, history, created_at, updated_at)
     SELECT a.id, a.patient_id, a.staff_id, a.type, a.s, a.e, a.bb, a.ba,
        a.s - a.bb * interval '1 minute', a.e + a.ba * interval '1 minute',
        a.reason, a.location, a.series_id, 'scheduled', a.history, $14, $14
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::int[],
                   $8::int[], $9::text[], $10::text[], $11::uuid[], $12::jsonb[], $13::int[])
         AS a(id, patient_id, staff_id, type, s, e, bb, ba, reason, location, series_id, history, n)
      ORDER BY a.n
     RETURNING ${SELECT}`,
    [
      col((a) => a.id),
      col((a) => a.patientId),
      col((a) => a.staffId),
      col((a) => a.type),
      col((a) => new Date(a.start).toISOString()),
      col((a) => new Date(a.end).toISOString()),
      col((a) => a.bufferBeforeMin),
      col((a) => a.bufferAfterMin),
      col((a) => a.reason ?? null),
      col((a) => a.location ?? null),
      col((a) => a.seriesId ?? null),
      col((a) => JSON.stringify(a.history)),
      list.map((_a, k) => k),
      now,
    ],
    { prepare: true },
  );
  return rows
    .map((r) => toAppointment(r as object))
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

export async function getAppointment(
  db: Queryable,
  id: string,
  forUpdate = false,
): Promise<Appointment | undefined> {
  const { rows } = await db.query(
    `SELECT ${SELECT} FROM appointments WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
    { prepare: true },
  );
  return rows[0] ? toAppointment(rows[0]) : undefined;
}

/** Later occurrences of a series (after `after`) still scheduled, locked, in start order. */
export async function followingInSeries(
  tx: Queryable,
  seriesId: string,
  after: string,
): Promise<Appointment[]> {
  const { rows } = await tx.query(
    `SELECT ${SELECT} FROM appointments WHERE series_id = $1 AND starts_at > $2 AND status = 'scheduled'
      ORDER BY starts_at, id FOR UPDATE`,
    [seriesId, after],
  );
  return rows.map((r) => toAppointment(r as object));
}

export interface AppointmentChange {
  status?: AppointmentStatus;
  start?: number;
  end?: number;
  reason?: string | null;
  location?: string | null;
  cancellationReason?: string;
  history: AppointmentHistoryEntry;
}

/** Writes a change of one appointment with version + 1; the constraints re-check a new slot. */
export async function updateAppointment(
  tx: Queryable,
  id: string,
  c: AppointmentChange,
  now: Date,
): Promise<Appointment> {
  const { params, bind } = sqlParams();
  const sets = [
    `version = version + 1`,
    `updated_at = ${bind(now)}`,
    `history = history || ${bind(JSON.stringify([c.history]))}::jsonb`,
  ];
  if (c.status !== undefined) sets.push(`status = ${bind(c.status)}`);
  if (c.start !== undefined && c.end !== undefined) {
    const s = bind(new Date(c.start).toISOString());
    const e = bind(new Date(c.end).toISOString());
    sets.push(
      `starts_at = ${s}`,
      `ends_at = ${e}`,
      `busy_from = ${s}::timestamptz - buffer_before_min * interval '1 minute'`,
      `busy_to = ${e}::timestamptz + buffer_after_min * interval '1 minute'`,
    );
  }
  if (c.reason !== undefined) sets.push(`reason = ${bind(c.reason)}`);
  if (c.location !== undefined) sets.push(`location = ${bind(c.location)}`);
  if (c.cancellationReason !== undefined) sets.push(`cancellation_reason = ${bind(c.cancellationReason)}`);
  const { rows } = await tx.query(
    `UPDATE appointments SET ${sets.join(', ')} WHERE id = ${bind(id)} RETURNING ${SELECT}`,
    params,
  );
  return toAppointment(rows[0] as object);
}

/**
 * An active appointment that a slot would overlap: of the staff member (busy spans, buffers
 * included) or of the patient (the appointments themselves). The earliest, other than `exclude`.
 */
export async function findConflict(
  db: Queryable,
  q: {
    staffId: string;
    patientId: string;
    busy: { start: number; end: number };
    slot: { start: number; end: number };
    exclude?: string;
  },
): Promise<Appointment | undefined> {
  const { rows } = await db.query(
    `SELECT ${SELECT} FROM appointments
      WHERE status IN ('scheduled', 'checked-in') AND id <> $7
        AND ((staff_id = $1 AND tstzrange(busy_from, busy_to, '[)') && tstzrange($3, $4, '[)'))
          OR (patient_id = $2 AND tstzrange(starts_at, ends_at, '[)') && tstzrange($5, $6, '[)')))
      ORDER BY starts_at, id LIMIT 1`,
    [
      q.staffId,
      q.patientId,
      new Date(q.busy.start).toISOString(),
      new Date(q.busy.end).toISOString(),
      new Date(q.slot.start).toISOString(),
      new Date(q.slot.end).toISOString(),
      q.exclude ?? '00000000-0000-0000-0000-000000000000',
    ],
  );
  return rows[0] ? toAppointment(rows[0]) : undefined;
}

export interface AppointmentFilter {
  patientId?: string | undefined;
  staffId?: string | undefined;
  status?: AppointmentStatus | undefined;
  seriesId?: string | undefined;
  /** Appointments ending after `from` and starting before `to`. */
  from?: string | undefined;
  to?: string | undefined;
}

export async function listAppointments(
  db: Queryable,
  f: AppointmentFilter,
  page: { after?: [string, string] | undefined; limit: number },
): Promise<Appointment[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.patientId) where.push(`patient_id = ${bind(f.patientId)}`);
  if (f.staffId) where.push(`staff_id = ${bind(f.staffId)}`);
  if (f.status) where.push(`status = ${bind(f.status)}`);
  if (f.seriesId) where.push(`series_id = ${bind(f.seriesId)}`);
  if (f.from) where.push(`ends_at > ${bind(f.from)}`);
  if (f.to) where.push(`starts_at < ${bind(f.to)}`);
  if (page.after)
    where.push(`(starts_at, id) > (${bind(page.after[0])}::timestamptz, ${bind(page.after[1])}::uuid)`);
  const { rows } = await db.query(
    `SELECT ${SELECT} FROM appointments WHERE ${where.join(' AND ')} ORDER BY starts_at, id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toAppointment(r as object));
}

/**
 * The busy spans (buffers included) of the given staff members' active appointments that meet
 * [from, to), per staff member, sorted: what the slot finder avoids. One row per staff member
 * with the spans as one text of epoch ms (`from,to,from,to,…`): a month of a busy schedule is
 * thousands of spans, and a row with timestamps per span (or an int8 array, parsed character by
 * character) cost more to read than the search itself.
 */
export async function busySpans(
  db: Queryable,
  staffIds: readonly string[],
  from: number,
  to: number,
): Promise<Map<string, Booking[]>> {
  const { rows } = await db.query<{ staff_id: string; spans: string }>(
    `SELECT staff_id,
            string_agg((extract(epoch FROM busy_from) * 1000)::int8 || ',' || (extract(epoch FROM busy_to) * 1000)::int8,
                       ',' ORDER BY busy_from) AS spans
       FROM appointments
      WHERE staff_id = ANY($1::uuid[]) AND status IN ('scheduled', 'checked-in')
        AND busy_to > $2 AND busy_from < $3
      GROUP BY staff_id`,
    [staffIds, new Date(from).toISOString(), new Date(to).toISOString()],
    { prepare: true },
  );
  const out = new Map<string, Booking[]>();
  for (const r of rows) {
    const n = r.spans.split(',').map(Number);
    const spans: Booking[] = [];
    // the span is the busy time itself: its buffers are in it already
    for (let k = 0; k + 1 < n.length; k += 2)
      spans.push({ start: n[k] as number, end: n[k + 1] as number, bufferBeforeMin: 0, bufferAfterMin: 0 });
    out.set(r.staff_id, spans);
  }
  return out;
}

/** Scheduled appointments that ended before `before`, locked (other replicas skip them), oldest first. */
export async function dueNoShows(tx: Tx, before: Date, limit: number): Promise<Appointment[]> {
  const { rows } = await tx.query(
    `SELECT ${SELECT} FROM appointments WHERE status = 'scheduled' AND ends_at < $1
      ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [before, limit],
  );
  return rows.map((r) => toAppointment(r as object));
}

// ---- what a booking reads: copies of Staff's time off and closures

/** Time off of one staff member that meets [from, to), as instants. */
export async function timeOffOf(
  db: Queryable,
  staffId: string,
  from: number,
  to: number,
): Promise<{ start: number; end: number }[]> {
  const { rows } = await db.query<{ starts_at: Date; ends_at: Date }>(
    `SELECT starts_at, ends_at FROM staff_time_off WHERE staff_id = $1 AND NOT removed AND ends_at > $2 AND starts_at < $3`,
    [staffId, new Date(from).toISOString(), new Date(to).toISOString()],
    { prepare: true },
  );
  return rows.map((r) => ({ start: r.starts_at.getTime(), end: r.ends_at.getTime() }));
}

/** Closure dates (YYYY-MM-DD) from `from` to `to`, inclusive. */
export async function closureDates(db: Queryable, from: string, to: string): Promise<string[]> {
  const { rows } = await db.query<{ date: string }>(
    `SELECT DISTINCT date FROM facility_closures WHERE NOT removed AND date BETWEEN $1 AND $2 ORDER BY date`,
    [from, to],
    { prepare: true },
  );
  return rows.map((r) => r.date);
}

export async function applyTimeOff(
  tx: Queryable,
  t: { id: string; staffId: string; start: string; end: string },
  removed: boolean,
): Promise<void> {
  await tx.query(
    removed
      ? `INSERT INTO staff_time_off (id, staff_id, starts_at, ends_at, removed) VALUES ($1, $2, $3, $4, true)
         ON CONFLICT (id) DO UPDATE SET removed = true`
      : `INSERT INTO staff_time_off (id, staff_id, starts_at, ends_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
    [t.id, t.staffId, t.start, t.end],
  );
}

export async function applyClosure(
  tx: Queryable,
  c: { id: string; date: string },
  removed: boolean,
): Promise<void> {
  await tx.query(
    removed
      ? `INSERT INTO facility_closures (id, date, removed) VALUES ($1, $2, true) ON CONFLICT (id) DO UPDATE SET removed = true`
      : `INSERT INTO facility_closures (id, date) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
    [c.id, c.date],
  );
}

export async function isSynced(db: Queryable, kind: string, id: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM copy_syncs WHERE kind = $1 AND id = $2`, [kind, id], {
    prepare: true,
  });
  return rows.length > 0;
}

export async function markSynced(db: Queryable, kind: string, id: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO copy_syncs (kind, id, synced_at) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET synced_at = EXCLUDED.synced_at`,
    [kind, id, now],
  );
}

/** Staff members of the copy (kit `local_copies`) matching a department and/or specialty, active. */
export async function copiedStaffIds(
  db: Queryable,
  f: { department?: string | undefined; specialty?: string | undefined },
  limit: number,
): Promise<string[]> {
  const { params, bind } = sqlParams();
  const where = [`kind = 'staff'`, `(data->>'active')::boolean`];
  if (f.department) where.push(`data->>'department' = ${bind(f.department)}`);
  if (f.specialty) where.push(`data->'specialties' @> ${bind(JSON.stringify([f.specialty]))}::jsonb`);
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM local_copies WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(limit)}`,
    params,
  );
  return rows.map((r) => r.id);
}

/**
 * Everything a booking checks, in one round trip when the copies are warm: the type, the staff
 * member's and the patient's entries in the kit's `local_copies` (kinds 'staff' and 'patient', as
 * `Copies` keeps them), whether Staff's time off and closures were ever filled, and the time off
 * and closures around the start.
 */
export async function bookingContext(
  db: Queryable,
  q: {
    type: string;
    staffId: string;
    patientId: string;
    from: number;
    to: number;
    closuresFrom: string;
    closuresTo: string;
  },
): Promise<{
  type: AppointmentType | undefined;
  staff: StaffEntry | undefined;
  patient: PatientEntry | undefined;
  timeOffFilled: boolean;
  closuresFilled: boolean;
  timeOff: { start: number; end: number }[];
  closureDates: string[];
}> {
  const { rows } = await db.query<{
    type: Record<string, unknown> | null;
    staff: StaffEntry | null;
    patient: PatientEntry | null;
    time_off_filled: boolean;
    closures_filled: boolean;
    time_off: [number, number][];
    closures: string[];
  }>(
    `SELECT
       (SELECT to_jsonb(t) FROM (SELECT ${TYPE_COLUMNS} FROM appointment_types WHERE code = $1) t) AS type,
       (SELECT data FROM local_copies WHERE kind = 'staff' AND id = $2) AS staff,
       (SELECT data FROM local_copies WHERE kind = 'patient' AND id = $3) AS patient,
       EXISTS (SELECT 1 FROM copy_syncs WHERE kind = 'time-off' AND id = $2) AS time_off_filled,
       EXISTS (SELECT 1 FROM copy_syncs WHERE kind = 'closures' AND id = '*') AS closures_filled,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(
           (extract(epoch FROM starts_at) * 1000)::bigint, (extract(epoch FROM ends_at) * 1000)::bigint)), '[]')
          FROM staff_time_off WHERE staff_id = $2::uuid AND NOT removed AND ends_at > $4 AND starts_at < $5) AS time_off,
       (SELECT coalesce(jsonb_agg(DISTINCT to_char(date, 'YYYY-MM-DD')), '[]')
          FROM facility_closures WHERE NOT removed AND date BETWEEN $6 AND $7) AS closures`,
    [
      q.type,
      q.staffId,
      q.patientId,
      new Date(q.from).toISOString(),
      new Date(q.to).toISOString(),
      q.closuresFrom,
      q.closuresTo,
    ],
    { prepare: true },
  );
  const r = rows[0];
  if (!r) throw new Error('bookingContext: no row');
  const type = r.type
    ? toType(
        Object.fromEntries(
          Object.entries(r.type).map(([k, v]) => [
            k,
            k.endsWith('_at') && typeof v === 'string' ? new Date(v) : v,
          ]),
        ),
      )
    : undefined;
  return {
    type,
    staff: r.staff ?? undefined,
    patient: r.patient ?? undefined,
    timeOffFilled: r.time_off_filled,
    closuresFilled: r.closures_filled,
    timeOff: r.time_off.map(([start, end]) => ({ start, end })),
    closureDates: r.closures,
  };
}
