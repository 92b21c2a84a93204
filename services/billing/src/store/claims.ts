import type { Claim, ClaimHistoryEntry, ClaimStatus } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable } from '@hms/platform';

/** SQL of claims and their history (STYLE.md §5). */

const COLUMNS = `c.id, c.invoice_id, c.patient_id, c.payer, c.member_id, c.group_number, c.amount, c.currency,
  c.approved_amount, c.status, c.denial_reason, c.denial_code, c.resubmission_of, c.payment_id, c.created_by,
  c.version, c.created_at, c.updated_at, r.id AS resubmitted_as, p.amount AS paid_amount`;
const FROM = `claims c LEFT JOIN claims r ON r.resubmission_of = c.id LEFT JOIN payments p ON p.id = c.payment_id`;
const toRow = rowMapper<Omit<Claim, 'history'>>(
  `id, invoice_id, patient_id, payer, member_id, group_number, amount, currency, approved_amount, status,
   denial_reason, denial_code, resubmission_of, payment_id, created_by, version, created_at, updated_at,
   resubmitted_as, paid_amount`,
);
const HISTORY_COLUMNS = 'claim_id, at, action, by, amount, reason';
const toHistory = rowMapper<ClaimHistoryEntry & { claimId: string }>(HISTORY_COLUMNS);

async function withHistory(db: Queryable, rows: object[]): Promise<Claim[]> {
  if (rows.length === 0) return [];
  const base = rows.map((r) => toRow(r));
  const { rows: history } = await db.query(
    `SELECT ${HISTORY_COLUMNS} FROM claim_history WHERE claim_id = ANY($1::uuid[]) ORDER BY claim_id, seq`,
    [base.map((c) => c.id)],
  );
  const of = new Map<string, ClaimHistoryEntry[]>();
  for (const r of history) {
    const { claimId, ...entry } = toHistory(r);
    of.set(claimId, [...(of.get(claimId) ?? []), entry]);
  }
  return base.map((c) => ({ ...c, history: of.get(c.id) ?? [] }));
}

/** The claim with its history; with `lock`, its row locked for the rest of the transaction. */
export async function getClaim(db: Queryable, id: string, lock = false): Promise<Claim | undefined> {
  const { rows } = await db.query(
    lock
      ? `SELECT ${COLUMNS} FROM ${FROM} WHERE c.id = $1 FOR UPDATE OF c`
      : `SELECT ${COLUMNS} FROM ${FROM} WHERE c.id = $1`,
    [id],
  );
  return (await withHistory(db, rows))[0];
}

/** An invoice's claims the insurer has (submitted or approved), but `except`. */
export async function openClaimsOf(
  db: Queryable,
  invoiceId: string,
  except?: string,
): Promise<{ status: ClaimStatus; amount: number; approvedAmount?: number }[]> {
  const { rows } = await db.query<{ status: ClaimStatus; amount: number; approved_amount: number | null }>(
    `SELECT status, amount, approved_amount FROM claims
      WHERE invoice_id = $1 AND status IN ('submitted', 'approved') AND id IS DISTINCT FROM $2`,
    [invoiceId, except ?? null],
  );
  return rows.map((r) => ({
    status: r.status,
    amount: r.amount,
    ...(r.approved_amount === null ? {} : { approvedAmount: r.approved_amount }),
  }));
}

export interface ClaimFilter {
  patientId?: string | undefined;
  invoiceId?: string | undefined;
  status?: ClaimStatus | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** Claims in id order (creation order), filtered, keyset-paged. */
export async function listClaims(
  db: Queryable,
  f: ClaimFilter,
  page: { after?: string | undefined; limit: number },
): Promise<Claim[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.patientId !== undefined) where.push(`c.patient_id = ${bind(f.patientId)}`);
  if (f.invoiceId !== undefined) where.push(`c.invoice_id = ${bind(f.invoiceId)}`);
  if (f.status !== undefined) where.push(`c.status = ${bind(f.status)}`);
  if (f.from !== undefined) where.push(`c.created_at >= ${bind(f.from)}`);
  if (f.to !== undefined) where.push(`c.created_at < ${bind(f.to)}`);
  if (page.after) where.push(`c.id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return withHistory(db, rows);
}

export interface NewClaim {
  id: string;
  invoiceId: string;
  patientId: string;
  payer: string;
  memberId: string;
  groupNumber?: string | undefined;
  amount: number;
  currency: string;
  resubmissionOf?: string | undefined;
  createdBy: string;
}

/** A draft claim (a second resubmission of one denied claim violates its UNIQUE: 23505). */
export async function insertClaim(tx: Queryable, c: NewClaim, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO claims (id, invoice_id, patient_id, payer, member_id, group_number, amount, currency, status,
        resubmission_of, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $10, $11, $11)`,
    [
      c.id,
      c.invoiceId,
      c.patientId,
      c.payer,
      c.memberId,
      c.groupNumber ?? null,
      c.amount,
      c.currency,
      c.resubmissionOf ?? null,
      c.createdBy,
      now,
    ],
  );
  await addHistory(tx, c.id, { at: now.toISOString(), action: 'created', by: c.createdBy, amount: c.amount });
}

/** What a transition sets besides the status. */
export interface ClaimChange {
  status: ClaimStatus;
  approvedAmount?: number;
  denialReason?: string;
  denialCode?: string | undefined;
  paymentId?: string;
}

export async function changeClaim(tx: Queryable, id: string, c: ClaimChange, now: Date): Promise<void> {
  await tx.query(
    `UPDATE claims SET status = $2, approved_amount = COALESCE($3, approved_amount),
        denial_reason = COALESCE($4, denial_reason), denial_code = COALESCE($5, denial_code),
        payment_id = COALESCE($6, payment_id), version = version + 1, updated_at = $7
      WHERE id = $1`,
    [
      id,
      c.status,
      c.approvedAmount ?? null,
      c.denialReason ?? null,
      c.denialCode ?? null,
      c.paymentId ?? null,
      now,
    ],
  );
}

export async function addHistory(tx: Queryable, claimId: string, e: ClaimHistoryEntry): Promise<void> {
  await tx.query(
    `INSERT INTO claim_history (claim_id, seq, at, action, by, amount, reason)
     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM claim_history WHERE claim_id = $1`,
    [claimId, e.at, e.action, e.by, e.amount ?? null, e.reason ?? null],
  );
}
