import type { Assignment, Closure, Staff, StaffInput, StaffRole, TimeOff } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable, type Tx } from '@hms/platform';
import type { Booking } from '@hms/scheduling';

/** The only module of the Staff service that speaks SQL (STYLE.md §5). */

const COLUMNS = `id, given_name, family_name, role, department, specialties, license_number, email, phone,
  active, timezone, weekly_hours, overrides, version, created_at, updated_at`;
const toStaff = rowMapper<Staff>(COLUMNS);

/** given_name … overrides, in column order, as parameters (jsonb values as JSON text). */
function writableParams(input: StaffInput): unknown[] {
  return [
    input.givenName,
    input.familyName,
    input.role,
    input.department,
    JSON.stringify(input.specialties ?? []),
    input.licenseNumber ?? null,
    input.email ?? null,
    input.phone ?? null,
    input.active ?? true,
    input.timezone,
    JSON.stringify(input.weeklyHours ?? []),
    JSON.stringify(input.overrides ?? []),
  ];
}

export async function insertStaff(tx: Queryable, id: string, input: StaffInput, now: Date): Promise<Staff> {
  const { rows } = await tx.query(
    `INSERT INTO staff (id, given_name, family_name, role, department, specialties, license_number, email, phone,
        active, timezone, weekly_hours, overrides, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
     RETURNING ${COLUMNS}`,
    [id, ...writableParams(input), now],
  );
  return toStaff(rows[0] as object);
}

export async function getStaff(db: Queryable, id: string, forUpdate = false): Promise<Staff | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM staff WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
    { prepare: true },
  );
  return rows[0] ? toStaff(rows[0]) : undefined;
}

/** Replaces the writable fields and bumps the version. */
export async function updateStaff(tx: Queryable, id: string, input: StaffInput, now: Date): Promise<Staff> {
  const { rows } = await tx.query(
    `UPDATE staff SET given_name = $2, family_name = $3, role = $4, department = $5, specialties = $6,
        license_number = $7, email = $8, phone = $9, active = $10, timezone = $11, weekly_hours = $12,
        overrides = $13, version = version + 1, updated_at = $14
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, ...writableParams(input), now],
  );
  return toStaff(rows[0] as object);
}

export interface StaffFilter {
  role?: StaffRole | undefined;
  department?: string | undefined;
  specialty?: string | undefined;
  active?: boolean | undefined;
}

/** Lists in id order (UUIDv7: onboarding order), filtered, keyset-paged. */
export async function listStaff(
  db: Queryable,
  filter: StaffFilter,
  page: { after?: string | undefined; limit: number },
): Promise<Staff[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (filter.role !== undefined) where.push(`role = ${bind(filter.role)}`);
  if (filter.department !== undefined) where.push(`department = ${bind(filter.department)}`);
  if (filter.specialty !== undefined)
    where.push(`specialties @> ${bind(JSON.stringify([filter.specialty]))}::jsonb`);
  if (filter.active !== undefined) where.push(`active = ${bind(filter.active)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM staff WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toStaff(r as object));
}

// ---- time off

const TIME_OFF_SELECT = `id, staff_id, starts_at AS start, ends_at AS "end", reason, created_at`;
const toTimeOff = rowMapper<TimeOff>('id, staff_id, start, end, reason, created_at');

export async function insertTimeOff(
  tx: Queryable,
  t: { id: string; staffId: string; start: string; end: string; reason?: string | undefined; now: Date },
): Promise<TimeOff> {
  const { rows } = await tx.query(
    `INSERT INTO time_off (id, staff_id, starts_at, ends_at, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${TIME_OFF_SELECT}`,
    [t.id, t.staffId, t.start, t.end, t.reason ?? null, t.now],
  );
  return toTimeOff(rows[0] as object);
}

/** Time off of one staff member in start order, those ending after `from` and starting before `to`. */
export async function listTimeOff(
  db: Queryable,
  staffId: string,
  opts: {
    from?: string | undefined;
    to?: string | undefined;
    after?: [string, string] | undefined;
    limit: number;
  },
): Promise<TimeOff[]> {
  const { params, bind } = sqlParams();
  const where = [`staff_id = ${bind(staffId)}`];
  if (opts.from) where.push(`ends_at > ${bind(opts.from)}`);
  if (opts.to) where.push(`starts_at < ${bind(opts.to)}`);
  if (opts.after)
    where.push(`(starts_at, id) > (${bind(opts.after[0])}::timestamptz, ${bind(opts.after[1])}::uuid)`);
  const { rows } = await db.query(
    `SELECT ${TIME_OFF_SELECT} FROM time_off WHERE ${where.join(' AND ')}
      ORDER BY starts_at, id LIMIT ${bind(opts.limit + 1)}`,
    params,
  );
  return rows.map((r) => toTimeOff(r as object));
}

/** Deletes one time off of a staff member; answers the deleted row (its event carries it), if any. */
export async function deleteTimeOff(
  db: Queryable,
  staffId: string,
  id: string,
): Promise<TimeOff | undefined> {
  const { rows } = await db.query(
    `DELETE FROM time_off WHERE staff_id = $1 AND id = $2 RETURNING ${TIME_OFF_SELECT}`,
    [staffId, id],
  );
  return rows[0] ? toTimeOff(rows[0]) : undefined;
}

// ---- facility closures

const CLOSURE_SELECT = `id, to_char(date, 'YYYY-MM-DD') AS date, name, created_at`;
const toClosure = rowMapper<Omit<Closure, 'timezone'>>('id, date, name, created_at');

/** Inserts a closure unless its date has one; answers undefined when it had. */
export async function insertClosure(
  db: Queryable,
  c: { id: string; date: string; name: string; now: Date },
): Promise<Omit<Closure, 'timezone'> | undefined> {
  const { rows } = await db.query(
    `INSERT INTO closures (id, date, name, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (date) DO NOTHING RETURNING ${CLOSURE_SELECT}`,
    [c.id, c.date, c.name, c.now],
  );
  return rows[0] ? toClosure(rows[0]) : undefined;
}

export async function listClosures(
  db: Queryable,
  opts: { from?: string | undefined; to?: string | undefined; after?: string | undefined; limit: number },
): Promise<Omit<Closure, 'timezone'>[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (opts.from) where.push(`date >= ${bind(opts.from)}`);
  if (opts.to) where.push(`date <= ${bind(opts.to)}`);
  if (opts.after) where.push(`date > ${bind(opts.after)}`);
  const { rows } = await db.query(
    `SELECT ${CLOSURE_SELECT} FROM closures WHERE ${where.join(' AND ')} ORDER BY date LIMIT ${bind(opts.limit + 1)}`,
    params,
  );
  return rows.map((r) => toClosure(r as object));
}

/** Deletes the closure of a date; answers the deleted row (its event carries it), if any. */
export async function deleteClosure(
  db: Queryable,
  date: string,
): Promise<Omit<Closure, 'timezone'> | undefined> {
  const { rows } = await db.query(`DELETE FROM closures WHERE date = $1 RETURNING ${CLOSURE_SELECT}`, [date]);
  return rows[0] ? toClosure(rows[0]) : undefined;
}

// ---- assignments: the copy of appointments kept from the Appointment service's events

/**
 * An appointment that still holds its staff member's time: scheduled or checked in. Written out,
 * not bound, so the planner matches it to the partial index `assignments_staff_active_end`.
 */
const ACTIVE = `status IN ('scheduled', 'checked-in')`;

const ASSIGNMENT_SELECT = `appointment_id, staff_id, patient_id, type, starts_at AS start, ends_at AS "end",
  status, series_id, version`;
const toAssignment = rowMapper<Assignment>(
  'appointment_id, staff_id, patient_id, type, start, end, status, series_id, version',
);

/** An assignment as the copy stores it: the API's shape and the buffers availability needs. */
export interface StoredAssignment extends Assignment {
  bufferBeforeMin: number;
  bufferAfterMin: number;
  updatedAt: string;
}

/**
 * Writes an appointment's state unless the copy holds the same or a newer version of it: an
 * event applied twice, or one older than what was applied already, changes nothing.
 */
export async function upsertAssignment(tx: Tx, a: StoredAssignment): Promise<void> {
  await tx.defer(
    `INSERT INTO assignments (appointment_id, staff_id, patient_id, type, starts_at, ends_at,
        buffer_before_min, buffer_after_min, status, series_id, version, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (appointment_id) DO UPDATE SET staff_id = EXCLUDED.staff_id,
        patient_id = EXCLUDED.patient_id, type = EXCLUDED.type, starts_at = EXCLUDED.starts_at,
        ends_at = EXCLUDED.ends_at, buffer_before_min = EXCLUDED.buffer_before_min,
        buffer_after_min = EXCLUDED.buffer_after_min, status = EXCLUDED.status,
        series_id = EXCLUDED.series_id, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
      WHERE assignments.version < EXCLUDED.version`,
    [
      a.appointmentId,
      a.staffId,
      a.patientId,
      a.type,
      a.start,
      a.end,
      a.bufferBeforeMin,
      a.bufferAfterMin,
      a.status,
      a.seriesId ?? null,
      a.version,
      a.updatedAt,
    ],
  );
}

/** Assignments of one staff member overlapping [from, to), in start order, keyset-paged. */
export async function listAssignments(
  db: Queryable,
  staffId: string,
  opts: {
    from: string;
    to: string;
    status?: string | undefined;
    after?: [string, string] | undefined;
    limit: number;
  },
): Promise<Assignment[]> {
  const { params, bind } = sqlParams();
  const where = [
    `staff_id = ${bind(staffId)}`,
    `ends_at > ${bind(opts.from)}`,
    `starts_at < ${bind(opts.to)}`,
  ];
  if (opts.status !== undefined) where.push(`status = ${bind(opts.status)}`);
  if (opts.after)
    where.push(
      `(starts_at, appointment_id) > (${bind(opts.after[0])}::timestamptz, ${bind(opts.after[1])}::uuid)`,
    );
  const { rows } = await db.query(
    `SELECT ${ASSIGNMENT_SELECT} FROM assignments WHERE ${where.join(' AND ')}
      ORDER BY starts_at, appointment_id LIMIT ${bind(opts.limit + 1)}`,
    params,
  );
  return rows.map((r) => toAssignment(r as object));
}

/**
 * The active appointments of a staff member still to come or under way (ending after `now`):
 * the first `limit` ids in start order, and how many there are in all.
 */
export async function futureActiveAssignments(
  db: Queryable,
  staffId: string,
  now: Date,
  limit: number,
): Promise<{ appointmentIds: string[]; count: number }> {
  const { rows } = await db.query<{ appointment_id: string; total: number }>(
    `SELECT appointment_id, count(*) OVER ()::int AS total FROM assignments
      WHERE staff_id = $1 AND ${ACTIVE} AND ends_at > $2
      ORDER BY starts_at, appointment_id LIMIT $3`,
    [staffId, now, limit],
  );
  return { appointmentIds: rows.map((r) => r.appointment_id), count: rows[0]?.total ?? 0 };
}

/** The active appointments of a staff member whose time, buffers included, overlaps [from, to). */
export async function bookings(db: Queryable, staffId: string, from: string, to: string): Promise<Booking[]> {
  const { rows } = await db.query<{
    starts_at: Date;
    ends_at: Date;
    buffer_before_min: number;
    buffer_after_min: number;
  }>(
    `SELECT starts_at, ends_at, buffer_before_min, buffer_after_min FROM assignments
      WHERE staff_id = $1 AND ${ACTIVE}
        AND ends_at + make_interval(mins => greatest(buffer_after_min, 0)) > $2
        AND starts_at - make_interval(mins => greatest(buffer_before_min, 0)) < $3
      ORDER BY starts_at`,
    [staffId, from, to],
  );
  return rows.map((r) => ({
    start: r.starts_at.getTime(),
    end: r.ends_at.getTime(),
    bufferBeforeMin: r.buffer_before_min,
    bufferAfterMin: r.buffer_after_min,
  }));
}
