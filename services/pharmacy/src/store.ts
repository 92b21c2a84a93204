import type {
  AllergyAlert,
  DispenseRecord,
  FillLine,
  FillState,
  Medication,
  MedicationInput,
  Prescription,
  PrescriptionFill,
  PrescriptionItem,
  PrescriptionStatus,
} from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable } from '@hms/platform';

/**
 * The only module of the Pharmacy service that speaks SQL (STYLE.md §5). Timestamps come from
 * the use cases (the service's clock), never from SQL `now()`.
 */

// ---- medications

const MED_COLUMNS = `id, code, name, form, strength, unit, ingredients, drug_classes, inventory_item_id,
  active, version, created_at, updated_at`;
const toMedication = rowMapper<Medication>(MED_COLUMNS);

export type MedicationRecord = Required<Omit<MedicationInput, 'inventoryItemId'>> &
  Pick<MedicationInput, 'inventoryItemId'>;

const medParams = (m: MedicationRecord) => [
  m.code,
  m.name,
  m.form,
  m.strength,
  m.unit,
  m.ingredients,
  m.drugClasses,
  m.inventoryItemId ?? null,
  m.active,
];

export async function insertMedication(db: Queryable, id: string, m: MedicationRecord, now: Date) {
  const { rows } = await db.query(
    `INSERT INTO medications (code, name, form, strength, unit, ingredients, drug_classes, inventory_item_id,
        active, id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING ${MED_COLUMNS}`,
    [...medParams(m), id, now],
  );
  return toMedication(rows[0] as object);
}

export async function getMedication(
  db: Queryable,
  id: string,
  lock = false,
): Promise<Medication | undefined> {
  const { rows } = await db.query(
    `SELECT ${MED_COLUMNS} FROM medications WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toMedication(rows[0]) : undefined;
}

export async function medicationsByIds(db: Queryable, ids: string[]): Promise<Medication[]> {
  const { rows } = await db.query(`SELECT ${MED_COLUMNS} FROM medications WHERE id = ANY($1::uuid[])`, [ids]);
  return rows.map((r) => toMedication(r as object));
}

export async function medicationIdByCode(db: Queryable, code: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM medications WHERE code = $1', [code]);
  return rows[0]?.id;
}

/** Replaces the medication's writable fields and bumps its version. */
export async function updateMedication(db: Queryable, id: string, m: MedicationRecord, now: Date) {
  const { rows } = await db.query(
    `UPDATE medications SET code = $1, name = $2, form = $3, strength = $4, unit = $5, ingredients = $6,
        drug_classes = $7, inventory_item_id = $8, active = $9, version = version + 1, updated_at = $11
      WHERE id = $10 RETURNING ${MED_COLUMNS}`,
    [...medParams(m), id, now],
  );
  return toMedication(rows[0] as object);
}

export interface MedicationFilter {
  code?: string | undefined;
  name?: string | undefined;
  drugClass?: string | undefined;
  ingredient?: string | undefined;
  active?: boolean | undefined;
}

/** Medications in id order (UUIDv7: creation order), filtered, keyset-paged. */
export async function listMedications(
  db: Queryable,
  f: MedicationFilter,
  page: { after?: string | undefined; limit: number },
): Promise<Medication[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.code !== undefined) where.push(`code = ${bind(f.code)}`);
  if (f.name !== undefined) where.push(`strpos(lower(name), lower(${bind(f.name)})) > 0`);
  if (f.drugClass !== undefined)
    where.push(`EXISTS (SELECT 1 FROM unnest(drug_classes) c WHERE lower(c) = lower(${bind(f.drugClass)}))`);
  if (f.ingredient !== undefined)
    where.push(`EXISTS (SELECT 1 FROM unnest(ingredients) i WHERE lower(i) = lower(${bind(f.ingredient)}))`);
  if (f.active !== undefined) where.push(`active = ${bind(f.active)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${MED_COLUMNS} FROM medications WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toMedication(r as object));
}

// ---- prescriptions

const RX_COLUMNS = `id, patient_id, prescriber_id, notes, status, valid_until, override_reason, allergy_alerts,
  cancellation_reason, cancelled_at, expired_at, created_by, version, created_at, updated_at`;
const toRow = rowMapper<Omit<Prescription, 'items' | 'fills'>>(RX_COLUMNS);
const ITEM_COLUMNS = `prescription_id, position, medication_id, dose, route, frequency, quantity, refills,
  refills_remaining, dispensed, pending`;
/**
 * Refills left: the fills the item still allows (units not dispensed nor pending, in whole
 * fills), less the first fill while it has not been made; never more than prescribed.
 */
const ITEM_SELECT = `prescription_id, position, medication_id, dose, route, frequency, quantity, refills,
  LEAST(refills, (quantity * (1 + refills) - dispensed - pending) / quantity) AS refills_remaining, dispensed,
  pending`;
const toItem = rowMapper<PrescriptionItem & { prescriptionId: string; position: number }>(ITEM_COLUMNS);

export interface NewPrescription {
  id: string;
  patientId: string;
  prescriberId: string;
  notes?: string | undefined;
  validUntil: Date;
  overrideReason?: string | undefined;
  allergyAlerts: AllergyAlert[];
  createdBy: string;
  items: {
    medicationId: string;
    dose: string;
    route: string;
    frequency: string;
    quantity: number;
    refills: number;
  }[];
}

export async function insertPrescription(tx: Queryable, p: NewPrescription, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO prescriptions (id, patient_id, prescriber_id, notes, status, valid_until, override_reason,
        allergy_alerts, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $9)`,
    [
      p.id,
      p.patientId,
      p.prescriberId,
      p.notes ?? null,
      p.validUntil,
      p.overrideReason ?? null,
      JSON.stringify(p.allergyAlerts),
      p.createdBy,
      now,
    ],
  );
  const { params, bind } = sqlParams();
  const values = p.items.map(
    (item, i) =>
      `(${bind(p.id)}, ${bind(i)}, ${bind(item.medicationId)}, ${bind(item.dose)}, ${bind(item.route)}, ${bind(
        item.frequency,
      )}, ${bind(item.quantity)}, ${bind(item.refills)})`,
  );
  await tx.query(
    `INSERT INTO prescription_items (prescription_id, position, medication_id, dose, route, frequency, quantity,
        refills) VALUES ${values.join(', ')}`,
    params,
  );
}

async function withItems(db: Queryable, rows: object[]): Promise<Prescription[]> {
  if (rows.length === 0) return [];
  const base = rows.map((r) => toRow(r));
  const { rows: itemRows } = await db.query(
    `SELECT ${ITEM_SELECT} FROM prescription_items WHERE prescription_id = ANY($1::uuid[])
      ORDER BY prescription_id, position`,
    [base.map((p) => p.id)],
  );
  const items = new Map<string, PrescriptionItem[]>();
  for (const r of itemRows) {
    const { prescriptionId, ...row } = toItem(r);
    const list = items.get(prescriptionId) ?? [];
    list.push({
      medicationId: row.medicationId,
      dose: row.dose,
      route: row.route,
      frequency: row.frequency,
      quantity: row.quantity,
      refills: row.refills,
      refillsRemaining: row.refillsRemaining,
      dispensed: row.dispensed,
      pending: row.pending,
    });
    items.set(prescriptionId, list);
  }
  const fills = await fillsOf(
    db,
    base.map((p) => p.id),
  );
  return base.map((p) => ({
    ...p,
    items: items.get(p.id) ?? [],
    fills: (fills.get(p.id) ?? []).map(fillView),
  }));
}

/** The prescription with its items; with `lock`, its row locked for the rest of the transaction. */
export async function getPrescription(
  db: Queryable,
  id: string,
  lock = false,
): Promise<Prescription | undefined> {
  const { rows } = await db.query(
    `SELECT ${RX_COLUMNS} FROM prescriptions WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return (await withItems(db, rows))[0];
}

export interface PrescriptionFilter {
  patientId?: string | undefined;
  prescriberId?: string | undefined;
  status?: PrescriptionStatus | undefined;
}

/** Prescriptions in id order (creation order), filtered, keyset-paged. */
export async function listPrescriptions(
  db: Queryable,
  f: PrescriptionFilter,
  page: { after?: string | undefined; limit: number },
): Promise<Prescription[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.patientId !== undefined) where.push(`patient_id = ${bind(f.patientId)}`);
  if (f.prescriberId !== undefined) where.push(`prescriber_id = ${bind(f.prescriberId)}`);
  if (f.status !== undefined) where.push(`status = ${bind(f.status)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${RX_COLUMNS} FROM prescriptions WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return withItems(db, rows);
}

export async function cancelPrescription(
  tx: Queryable,
  id: string,
  reason: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE prescriptions SET status = 'cancelled', cancellation_reason = $2, cancelled_at = $3,
        version = version + 1, updated_at = $3 WHERE id = $1`,
    [id, reason, now],
  );
}

export async function expirePrescription(tx: Queryable, id: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE prescriptions SET status = 'expired', expired_at = $2, version = version + 1, updated_at = $2
      WHERE id = $1`,
    [id, now],
  );
}

/** Ids of open prescriptions whose validUntil has passed at `now`, oldest deadline first. */
export async function dueForExpiry(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM prescriptions WHERE status IN ('active', 'filled') AND valid_until <= $1
      ORDER BY valid_until LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => r.id);
}

// ---- fills (the dispensing saga's state)

export interface NewFill {
  id: string;
  kind: 'fill' | 'dispense';
  prescriptionId?: string | undefined;
  patientId?: string | undefined;
  note?: string | undefined;
  createdBy: string;
  lines: { medicationId: string; itemId: string; quantity: number; dispenseId: string }[];
}

export async function insertFill(tx: Queryable, f: NewFill, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO fills (id, kind, prescription_id, patient_id, state, note, created_by, created_at)
     VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)`,
    [f.id, f.kind, f.prescriptionId ?? null, f.patientId ?? null, f.note ?? null, f.createdBy, now],
  );
  const { params, bind } = sqlParams();
  const values = f.lines.map(
    (l, i) =>
      `(${bind(f.id)}, ${bind(i)}, ${bind(l.medicationId)}, ${bind(l.itemId)}, ${bind(l.quantity)}, ${bind(l.dispenseId)})`,
  );
  await tx.query(
    `INSERT INTO fill_lines (fill_id, position, medication_id, item_id, quantity, dispense_id) VALUES ${values.join(', ')}`,
    params,
  );
}

const FILL_COLUMNS = `id, kind, prescription_id, patient_id, state, note, rejection_reason, created_by, created_at,
  completed_at, rejected_at`;
export interface FillRow {
  id: string;
  kind: 'fill' | 'dispense';
  prescriptionId?: string;
  patientId?: string;
  state: FillState;
  note?: string;
  rejectionReason?: string;
  createdBy: string;
  createdAt: string;
  completedAt?: string;
  rejectedAt?: string;
}
const toFillRow = rowMapper<FillRow>(FILL_COLUMNS);
const LINE_COLUMNS = 'fill_id, position, medication_id, item_id, quantity, dispense_id, reservation_id, lots';
type LineRow = FillLine & { fillId: string; position: number };
const toLine = rowMapper<LineRow>(LINE_COLUMNS);

export interface StoredFill extends FillRow {
  lines: (FillLine & { position: number })[];
}

async function withLines(db: Queryable, rows: object[]): Promise<StoredFill[]> {
  if (rows.length === 0) return [];
  const fills = rows.map((r) => toFillRow(r));
  const { rows: lineRows } = await db.query(
    `SELECT ${LINE_COLUMNS} FROM fill_lines WHERE fill_id = ANY($1::uuid[]) ORDER BY fill_id, position`,
    [fills.map((f) => f.id)],
  );
  const lines = new Map<string, StoredFill['lines']>();
  for (const r of lineRows) {
    const { fillId, ...line } = toLine(r);
    lines.set(fillId, [...(lines.get(fillId) ?? []), line]);
  }
  return fills.map((f) => ({ ...f, lines: lines.get(f.id) ?? [] }));
}

/** The fill with its lines; with `lock`, its row locked for the rest of the transaction. */
export async function getFill(db: Queryable, id: string, lock = false): Promise<StoredFill | undefined> {
  const { rows } = await db.query(
    `SELECT ${FILL_COLUMNS} FROM fills WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return (await withLines(db, rows))[0];
}

async function fillsOf(db: Queryable, prescriptionIds: string[]): Promise<Map<string, StoredFill[]>> {
  const { rows } = await db.query(
    `SELECT ${FILL_COLUMNS} FROM fills WHERE prescription_id = ANY($1::uuid[]) ORDER BY prescription_id, id`,
    [prescriptionIds],
  );
  const out = new Map<string, StoredFill[]>();
  for (const f of await withLines(db, rows)) {
    const key = f.prescriptionId as string;
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

/** A stored fill as the API answers it. */
export function fillView(f: StoredFill): PrescriptionFill {
  return {
    id: f.id,
    state: f.state,
    at: f.createdAt,
    by: f.createdBy,
    quantities: f.lines.map((l) => ({
      medicationId: l.medicationId,
      itemId: l.itemId,
      quantity: l.quantity,
      dispenseId: l.dispenseId,
      ...(l.reservationId ? { reservationId: l.reservationId } : {}),
      lots: l.lots,
    })),
    ...(f.completedAt ? { completedAt: f.completedAt } : {}),
    ...(f.rejectedAt ? { rejectedAt: f.rejectedAt } : {}),
    ...(f.rejectionReason ? { reason: f.rejectionReason } : {}),
  };
}

/** Keeps the reservation a line's units are held by (outside any transaction: the saga's progress). */
export async function setLineReservation(
  db: Queryable,
  fillId: string,
  position: number,
  reservationId: string,
  lots: { lotNumber: string; quantity: number }[],
): Promise<void> {
  await db.query(
    'UPDATE fill_lines SET reservation_id = $3, lots = $4 WHERE fill_id = $1 AND position = $2',
    [fillId, position, reservationId, JSON.stringify(lots)],
  );
}

/** Counts a fill's units against its prescription's items as pending (`delta` > 0) or gives them back (< 0). */
export async function holdItems(
  tx: Queryable,
  prescriptionId: string,
  lines: { medicationId: string; quantity: number }[],
  sign: 1 | -1,
): Promise<void> {
  for (const l of lines)
    await tx.query(
      'UPDATE prescription_items SET pending = pending + $3 WHERE prescription_id = $1 AND medication_id = $2',
      [prescriptionId, l.medicationId, sign * l.quantity],
    );
}

/** A completed fill's units move from pending to dispensed. */
export async function dispenseItems(
  tx: Queryable,
  prescriptionId: string,
  lines: { medicationId: string; quantity: number }[],
): Promise<void> {
  for (const l of lines)
    await tx.query(
      `UPDATE prescription_items SET pending = pending - $3, dispensed = dispensed + $3
        WHERE prescription_id = $1 AND medication_id = $2`,
      [prescriptionId, l.medicationId, l.quantity],
    );
}

export async function setPrescriptionStatus(
  tx: Queryable,
  id: string,
  status: PrescriptionStatus,
  now: Date,
): Promise<void> {
  await tx.query(
    'UPDATE prescriptions SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1',
    [id, status, now],
  );
}

export async function completeFill(tx: Queryable, id: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE fills SET state = 'completed', completed_at = $2 WHERE id = $1 AND state = 'pending'`,
    [id, now],
  );
}

export async function rejectFill(tx: Queryable, id: string, reason: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE fills SET state = 'rejected', rejection_reason = $2, rejected_at = $3 WHERE id = $1 AND state = 'pending'`,
    [id, reason, now],
  );
}

/** Pending fills recorded before `before`: a saga this service started and never finished (it stopped). */
export async function stalePendingFills(db: Queryable, before: Date, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM fills WHERE state = 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/** Marks lines of a fill whose reservation compensation could not release: the resume job owes it. */
export async function markReleaseOwed(tx: Queryable, fillId: string, positions: number[]): Promise<void> {
  if (positions.length === 0) return;
  await tx.query(
    'UPDATE fill_lines SET release_owed = true WHERE fill_id = $1 AND position = ANY($2::int[])',
    [fillId, positions],
  );
}

/** Releases still owed (oldest fills first): the reservations compensation could not let go of. */
export async function owedReleases(
  db: Queryable,
  limit: number,
): Promise<{ fillId: string; position: number; reservationId: string }[]> {
  const { rows } = await db.query<{ fill_id: string; position: number; reservation_id: string }>(
    `SELECT fill_id, position, reservation_id FROM fill_lines
      WHERE release_owed AND reservation_id IS NOT NULL ORDER BY fill_id, position LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ fillId: r.fill_id, position: r.position, reservationId: r.reservation_id }));
}

/** Inventory confirmed the release: nothing is owed on this line any more. */
export async function clearReleaseOwed(db: Queryable, fillId: string, position: number): Promise<void> {
  await db.query('UPDATE fill_lines SET release_owed = false WHERE fill_id = $1 AND position = $2', [
    fillId,
    position,
  ]);
}

/** A medication's completed dispenses in dispense order, keyset-paged on the dispense id. */
export async function dispensesOf(
  db: Queryable,
  medicationId: string,
  page: { after?: string | undefined; limit: number },
): Promise<DispenseRecord[]> {
  const { rows } = await db.query(
    `SELECT l.dispense_id, l.fill_id, l.medication_id, f.prescription_id, f.patient_id, l.item_id,
            l.reservation_id, l.quantity, l.lots, f.created_by AS by, f.note, f.completed_at AS dispensed_at
       FROM fill_lines l JOIN fills f ON f.id = l.fill_id
      WHERE l.medication_id = $1 AND f.state = 'completed' AND ($2::uuid IS NULL OR l.dispense_id > $2)
      ORDER BY l.dispense_id LIMIT $3`,
    [medicationId, page.after ?? null, page.limit + 1],
  );
  return rows.map((r) => toDispense(r));
}
const toDispense = rowMapper<DispenseRecord>(
  'dispense_id, fill_id, medication_id, prescription_id, patient_id, item_id, reservation_id, quantity, lots, by, note, dispensed_at',
);
