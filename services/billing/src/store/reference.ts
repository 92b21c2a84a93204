import type { FeeScheduleEntry } from '@hms/contracts';
import { rowMapper, type Queryable } from '@hms/platform';

/** SQL of the fee schedule and of what Billing has heard of appointments (STYLE.md §5). */

const FEE_COLUMNS = 'code, description, unit_price, currency, version, created_at, updated_at';
const toFee = rowMapper<FeeScheduleEntry>(FEE_COLUMNS);

export async function getFee(
  db: Queryable,
  code: string,
  lock = false,
): Promise<FeeScheduleEntry | undefined> {
  const { rows } = await db.query(
    `SELECT ${FEE_COLUMNS} FROM fee_schedule WHERE code = $1${lock ? ' FOR UPDATE' : ''}`,
    [code],
  );
  return rows[0] ? toFee(rows[0]) : undefined;
}

/** The fee schedule in code order, keyset-paged. */
export async function listFees(
  db: Queryable,
  page: { after?: string | undefined; limit: number },
): Promise<FeeScheduleEntry[]> {
  const { rows } = await db.query(
    `SELECT ${FEE_COLUMNS} FROM fee_schedule WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2`,
    [page.after ?? null, page.limit + 1],
  );
  return rows.map((r) => toFee(r));
}

export interface FeeRecord {
  code: string;
  description: string;
  unitPrice: number;
  currency: string;
}

/** Creates the entry, or replaces it with the next version. */
export async function putFee(tx: Queryable, f: FeeRecord, now: Date): Promise<FeeScheduleEntry> {
  const { rows } = await tx.query(
    `INSERT INTO fee_schedule (code, description, unit_price, currency, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (code) DO UPDATE SET description = EXCLUDED.description, unit_price = EXCLUDED.unit_price,
        currency = EXCLUDED.currency, version = fee_schedule.version + 1, updated_at = EXCLUDED.updated_at
     RETURNING ${FEE_COLUMNS}`,
    [f.code, f.description, f.unitPrice, f.currency, now],
  );
  return toFee(rows[0] as object);
}

export async function deleteFee(tx: Queryable, code: string): Promise<void> {
  await tx.query('DELETE FROM fee_schedule WHERE code = $1', [code]);
}

export interface SeenAppointment {
  version: number;
  status: string;
}

/**
 * Records an appointment's version and status unless a newer one is recorded (its row locked for
 * the rest of the transaction). Answers what was recorded before, and what is recorded now.
 */
export async function seeAppointment(
  tx: Queryable,
  id: string,
  seen: SeenAppointment,
): Promise<{ before: SeenAppointment | undefined; now: SeenAppointment }> {
  const inserted = await tx.query(
    `INSERT INTO appointments_seen (appointment_id, version, status) VALUES ($1, $2, $3)
     ON CONFLICT (appointment_id) DO NOTHING`,
    [id, seen.version, seen.status],
  );
  if (inserted.rowCount > 0) return { before: undefined, now: seen };
  const { rows } = await tx.query<SeenAppointment>(
    'SELECT version, status FROM appointments_seen WHERE appointment_id = $1 FOR UPDATE',
    [id],
  );
  const before = rows[0] as SeenAppointment;
  if (before.version >= seen.version) return { before, now: before };
  await tx.query('UPDATE appointments_seen SET version = $2, status = $3 WHERE appointment_id = $1', [
    id,
    seen.version,
    seen.status,
  ]);
  return { before, now: seen };
}
