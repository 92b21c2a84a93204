import type { Invoice, InvoiceAdjustment, InvoiceLineInput, InvoiceStatus, Payment } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable, type Tx } from '@hms/platform';
import { lineAmount, pricedLines, totalsOf, type StoredLine } from '../domain/money.js';

/**
 * SQL of invoices and their ledger (STYLE.md §5: only the store speaks SQL). An invoice is read
 * whole: its lines, payments and adjustments, and the totals summed from them. The `total`,
 * `paid` and `adjusted` columns are kept by every write in the same statement as the status, for
 * the database's CHECKs; reads never use them. Timestamps come from the use cases' clock.
 */

const COLUMNS = `id, number, patient_id, appointment_id, currency, status, needs_pricing, refund_due, notes,
  issued_at, due_at, voided_at, void_reason, created_by, version, created_at, updated_at`;
type Row = Omit<Invoice, 'lines' | 'payments' | 'adjustments' | 'total' | 'paid' | 'adjusted' | 'balance'>;
const toRow = rowMapper<Row>(COLUMNS);
const LINE_COLUMNS = 'invoice_id, line, code, description, quantity, unit_price';
const toLine = rowMapper<StoredLine & { invoiceId: string }>(LINE_COLUMNS);
const PAYMENT_COLUMNS =
  'id, invoice_id, amount, currency, method, reference, claim_id, recorded_by, recorded_at';
const toPayment = rowMapper<Payment>(PAYMENT_COLUMNS);
const ADJUSTMENT_COLUMNS = 'id, invoice_id, line, amount, currency, reason, note, recorded_by, recorded_at';
const toAdjustment = rowMapper<InvoiceAdjustment>(ADJUSTMENT_COLUMNS);

function group<T extends { invoiceId: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(r.invoiceId, [...(out.get(r.invoiceId) ?? []), r]);
  return out;
}

/** Invoices whole, from their rows: lines, ledger, and the totals summed from them. */
async function whole(db: Queryable, rows: object[]): Promise<Invoice[]> {
  if (rows.length === 0) return [];
  const base = rows.map((r) => toRow(r));
  const ids = base.map((i) => i.id);
  // one after the other: inside a transaction they share its one connection
  const lines = await db.query(
    `SELECT ${LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, line`,
    [ids],
  );
  const payments = await db.query(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, id`,
    [ids],
  );
  const adjustments = await db.query(
    `SELECT ${ADJUSTMENT_COLUMNS} FROM adjustments WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, id`,
    [ids],
  );
  const linesOf = group(lines.rows.map((r) => toLine(r)));
  const paymentsOf = group(payments.rows.map((r) => toPayment(r)));
  const adjustmentsOf = group(adjustments.rows.map((r) => toAdjustment(r)));
  return base.map((inv) => {
    const l = (linesOf.get(inv.id) ?? []).map(({ invoiceId: _, ...line }) => line);
    const p = paymentsOf.get(inv.id) ?? [];
    const a = adjustmentsOf.get(inv.id) ?? [];
    return { ...inv, lines: pricedLines(l, a), ...totalsOf(l, p, a), payments: p, adjustments: a };
  });
}

export async function getInvoice(db: Queryable, id: string, lock = false): Promise<Invoice | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM invoices WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return (await whole(db, rows))[0];
}

export async function invoiceOfAppointment(
  db: Queryable,
  appointmentId: string,
  lock = false,
): Promise<Invoice | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM invoices WHERE appointment_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [appointmentId],
  );
  return (await whole(db, rows))[0];
}

export interface InvoiceFilter {
  patientId?: string | undefined;
  status?: InvoiceStatus | undefined;
  appointmentId?: string | undefined;
  /** Created at or after. */
  from?: string | undefined;
  /** Created before. */
  to?: string | undefined;
}

/** Invoices in id order (UUIDv7: creation order), filtered, keyset-paged. */
export async function listInvoices(
  db: Queryable,
  f: InvoiceFilter,
  page: { after?: string | undefined; limit: number },
): Promise<Invoice[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.patientId !== undefined) where.push(`patient_id = ${bind(f.patientId)}`);
  if (f.status !== undefined) where.push(`status = ${bind(f.status)}`);
  if (f.appointmentId !== undefined) where.push(`appointment_id = ${bind(f.appointmentId)}`);
  if (f.from !== undefined) where.push(`created_at >= ${bind(f.from)}`);
  if (f.to !== undefined) where.push(`created_at < ${bind(f.to)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM invoices WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return whole(db, rows);
}

/** A patient's issued invoices (what they owe), oldest first. */
export async function openInvoicesOf(db: Queryable, patientId: string): Promise<Invoice[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM invoices WHERE patient_id = $1 AND status = 'issued' ORDER BY id`,
    [patientId],
  );
  return whole(db, rows);
}

/** What is to be refunded on a patient's invoices, per invoice currency. */
export async function refundsOf(
  db: Queryable,
  patientId: string,
): Promise<{ currency: string; amount: number }[]> {
  const { rows } = await db.query<{ currency: string; amount: number }>(
    `SELECT currency, sum(refund_due)::bigint AS amount FROM invoices WHERE patient_id = $1 AND refund_due > 0
      GROUP BY currency`,
    [patientId],
  );
  return rows;
}

/**
 * The next number of `year`'s counter. Its row stays locked until the transaction ends, so take
 * it last: a rolled-back transaction gives the number back and the sequence has no gaps.
 */
export async function nextInvoiceCounter(tx: Queryable, year: number): Promise<number> {
  const { rows } = await tx.query<{ last: number }>(
    `INSERT INTO invoice_counters (year, last) VALUES ($1, 1)
     ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last`,
    [year],
  );
  return (rows[0] as { last: number }).last;
}

export interface NewInvoice {
  id: string;
  number: string;
  patientId: string;
  appointmentId?: string | undefined;
  currency: string;
  needsPricing: boolean;
  notes?: string | undefined;
  createdBy: string;
  lines: InvoiceLineInput[];
}

const totalOf = (lines: readonly InvoiceLineInput[]) => lines.reduce((a, l) => a + lineAmount(l), 0);

/** Deferred (`Tx.defer`): it goes out with the transaction's next statement, one round trip fewer. */
async function insertLines(tx: Tx, invoiceId: string, lines: readonly InvoiceLineInput[]): Promise<void> {
  if (lines.length === 0) return;
  const { params, bind } = sqlParams();
  const values = lines.map(
    (l, i) =>
      `(${bind(invoiceId)}, ${bind(i + 1)}, ${bind(l.code)}, ${bind(l.description)}, ${bind(l.quantity)}, ${bind(
        l.unitPrice,
      )})`,
  );
  await tx.defer(
    `INSERT INTO invoice_lines (invoice_id, line, code, description, quantity, unit_price) VALUES ${values.join(', ')}`,
    params,
  );
}

/**
 * A draft, deferred with its lines (a second invoice of one appointment violates its UNIQUE,
 * SQLSTATE 23505, at the transaction's next statement or its commit).
 */
export async function insertInvoice(tx: Tx, inv: NewInvoice, now: Date): Promise<void> {
  await tx.defer(
    `INSERT INTO invoices (id, number, patient_id, appointment_id, currency, status, needs_pricing, total, notes,
        created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $10)`,
    [
      inv.id,
      inv.number,
      inv.patientId,
      inv.appointmentId ?? null,
      inv.currency,
      inv.needsPricing,
      totalOf(inv.lines),
      inv.notes ?? null,
      inv.createdBy,
      now,
    ],
  );
  await insertLines(tx, inv.id, inv.lines);
}

/** Replaces a draft's lines and notes; it is priced from now on. */
export async function replaceLines(
  tx: Tx,
  id: string,
  lines: readonly InvoiceLineInput[],
  notes: string | undefined,
  now: Date,
): Promise<void> {
  await tx.query('DELETE FROM invoice_lines WHERE invoice_id = $1', [id]);
  await insertLines(tx, id, lines);
  await tx.query(
    `UPDATE invoices SET total = $2, notes = $3, needs_pricing = false, version = version + 1, updated_at = $4
      WHERE id = $1`,
    [id, totalOf(lines), notes ?? null, now],
  );
}

export async function markIssued(
  tx: Queryable,
  id: string,
  status: InvoiceStatus,
  dueAt: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE invoices SET status = $2, issued_at = $3, due_at = $4, version = version + 1, updated_at = $3
      WHERE id = $1`,
    [id, status, now, dueAt],
  );
}

export async function markVoid(tx: Queryable, id: string, reason: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE invoices SET status = 'void', voided_at = $2, void_reason = $3, version = version + 1, updated_at = $2
      WHERE id = $1`,
    [id, now, reason],
  );
}

/** Appends a payment and moves the invoice's kept sum and status with it, in one transaction. */
export async function insertPayment(
  tx: Queryable,
  p: Payment,
  status: InvoiceStatus,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO payments (id, invoice_id, amount, currency, method, reference, claim_id, recorded_by, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      p.id,
      p.invoiceId,
      p.amount,
      p.currency,
      p.method,
      p.reference ?? null,
      p.claimId ?? null,
      p.recordedBy,
      p.recordedAt,
    ],
  );
  await tx.query(
    `UPDATE invoices SET paid = paid + $2, status = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
    [p.invoiceId, p.amount, status, now],
  );
}

/** Appends an adjustment and moves the invoice's (and its line's) kept sums and status with it. */
export async function insertAdjustment(
  tx: Queryable,
  a: InvoiceAdjustment,
  status: InvoiceStatus,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO adjustments (id, invoice_id, line, amount, currency, reason, note, recorded_by, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      a.id,
      a.invoiceId,
      a.line ?? null,
      a.amount,
      a.currency,
      a.reason,
      a.note ?? null,
      a.recordedBy,
      a.recordedAt,
    ],
  );
  if (a.line !== undefined)
    await tx.query('UPDATE invoice_lines SET adjusted = adjusted + $3 WHERE invoice_id = $1 AND line = $2', [
      a.invoiceId,
      a.line,
      a.amount,
    ]);
  await tx.query(
    `UPDATE invoices SET adjusted = adjusted + $2, status = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
    [a.invoiceId, a.amount, status, now],
  );
}

/** Flags what was paid on an invoice whose appointment was cancelled as due back to the payer. */
export async function setRefundDue(tx: Queryable, id: string, amount: number, now: Date): Promise<void> {
  await tx.query(
    'UPDATE invoices SET refund_due = $2, version = version + 1, updated_at = $3 WHERE id = $1',
    [id, amount, now],
  );
}
