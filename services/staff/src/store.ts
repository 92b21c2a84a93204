import type { Closure, Staff, StaffInput, StaffRole, TimeOff } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable } from '@hms/platform';

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

/** Deletes one time off of a staff member; answers whether there was one. */
export async function deleteTimeOff(db: Queryable, staffId: string, id: string): Promise<boolean> {
  const { rows } = await db.query(`DELETE FROM time_off WHERE staff_id = $1 AND id = $2 RETURNING id`, [
    staffId,
    id,
  ]);
  return rows.length > 0;
}

// ---- facility closures

const CLOSURE_SELECT = `to_char(date, 'YYYY-MM-DD') AS date, name, created_at`;
const toClosure = rowMapper<Omit<Closure, 'timezone'>>('date, name, created_at');

/** Inserts a closure unless its date has one; answers undefined when it had. */
export async function insertClosure(
  db: Queryable,
  c: { date: string; name: string; now: Date },
): Promise<Omit<Closure, 'timezone'> | undefined> {
  const { rows } = await db.query(
    `INSERT INTO closures (date, name, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (date) DO NOTHING RETURNING ${CLOSURE_SELECT}`,
    [c.date, c.name, c.now],
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

export async function deleteClosure(db: Queryable, date: string): Promise<boolean> {
  const { rows } = await db.query(`DELETE FROM closures WHERE date = $1 RETURNING date`, [date]);
  return rows.length > 0;
}
