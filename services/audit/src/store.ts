import type { AuditOutcome, AuditRecord } from '@hms/contracts';
import { sqlParams, type Queryable, type Tx } from '@hms/platform';
import type { ChainHead } from './domain/chain.js';

/**
 * The only module of the Audit service that speaks SQL (STYLE.md §5). Rows are appended, never
 * changed: the table's triggers refuse UPDATE, DELETE and TRUNCATE (migrations/001).
 */

const COLUMNS = `seq, id, recorded_at, category, type, event_id, item, source, subject, at, actor_kind,
  actor_id, action, outcome, status, service, method, route, request_id, client_ip, resource_type,
  resource_ids, patient_ids, changed_fields, data_digest, prev_hash, hash`;

/** What reads select: the arrays as JSON, which the driver parses natively (the verifier reads millions). */
const READ_COLUMNS = COLUMNS.replace(
  /\b(resource_ids|patient_ids|changed_fields)\b/g,
  (column) => `array_to_json(${column}) AS ${column}`,
);

interface Row {
  seq: number;
  id: string;
  recorded_at: Date;
  category: AuditRecord['category'];
  type: string;
  event_id: string;
  item: number;
  source: string;
  subject: string;
  at: Date;
  actor_kind: 'user' | 'service' | 'anonymous' | null;
  actor_id: string | null;
  action: string | null;
  outcome: AuditOutcome | null;
  status: number | null;
  service: string | null;
  method: string | null;
  route: string | null;
  request_id: string | null;
  client_ip: string | null;
  resource_type: string;
  resource_ids: string[];
  patient_ids: string[];
  changed_fields: string[];
  data_digest: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * A row as the record it stores, with exactly the fields it was hashed with (NULL → absent).
 * Written out field by field: the verifier maps every row it walks, and this is its hot path.
 */
function toRecord(r: Row): AuditRecord {
  const record: AuditRecord = {
    seq: r.seq,
    id: r.id,
    recordedAt: r.recorded_at.toISOString(),
    category: r.category,
    type: r.type,
    eventId: r.event_id,
    item: r.item,
    source: r.source,
    subject: r.subject,
    at: r.at.toISOString(),
    resource: { type: r.resource_type, ids: r.resource_ids },
    patientIds: r.patient_ids,
    changedFields: r.changed_fields,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
  if (r.actor_kind !== null)
    record.actor = r.actor_id === null ? { kind: r.actor_kind } : { kind: r.actor_kind, id: r.actor_id };
  if (r.action !== null) record.action = r.action;
  if (r.outcome !== null) record.outcome = r.outcome;
  if (r.status !== null) record.status = r.status;
  if (r.service !== null) record.service = r.service;
  if (r.method !== null) record.method = r.method;
  if (r.route !== null) record.route = r.route;
  if (r.request_id !== null) record.requestId = r.request_id;
  if (r.client_ip !== null) record.clientIp = r.client_ip;
  if (r.data_digest !== null) record.dataDigest = r.data_digest;
  return record;
}

function toRow(r: AuditRecord): Omit<Row, 'recorded_at' | 'at'> & { recorded_at: string; at: string } {
  return {
    seq: r.seq,
    id: r.id,
    recorded_at: r.recordedAt,
    category: r.category,
    type: r.type,
    event_id: r.eventId,
    item: r.item,
    source: r.source,
    subject: r.subject,
    at: r.at,
    actor_kind: r.actor?.kind ?? null,
    actor_id: r.actor?.id ?? null,
    action: r.action ?? null,
    outcome: r.outcome ?? null,
    status: r.status ?? null,
    service: r.service ?? null,
    method: r.method ?? null,
    route: r.route ?? null,
    request_id: r.requestId ?? null,
    client_ip: r.clientIp ?? null,
    resource_type: r.resource.type,
    resource_ids: r.resource.ids,
    patient_ids: r.patientIds,
    changed_fields: r.changedFields,
    data_digest: r.dataDigest ?? null,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

// ---- appending

/**
 * The chain's serialisation point, in the database so that every replica shares it: a
 * transaction-scoped advisory lock, held until the appending transaction commits or rolls back.
 * The head read after it sees every committed append (READ COMMITTED: a new snapshot per
 * statement), and a rolled-back append frees its seqs, so they stay gap-free.
 */
export async function lockChainHead(tx: Tx): Promise<ChainHead | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('audit:chain'))`, [], { prepare: true });
  const { rows } = await tx.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
    [],
    { prepare: true },
  );
  return rows[0];
}

/** Appends linked records in one statement (sent with the transaction's next statement or COMMIT). */
export async function insertRecords(tx: Tx, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await tx.defer(
    `INSERT INTO audit_records (${COLUMNS})
     SELECT ${COLUMNS} FROM json_populate_recordset(NULL::audit_records, $1::json)`,
    [JSON.stringify(records.map(toRow))],
  );
}

export async function chainHead(db: Queryable): Promise<ChainHead | undefined> {
  const { rows } = await db.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
  );
  return rows[0];
}

// ---- verification

/** Records after `afterSeq` (up to `toSeq`), in seq order, one page: the verifier's keyset walk. */
export async function recordsAfter(
  db: Queryable,
  afterSeq: number,
  toSeq: number | undefined,
  limit: number,
): Promise<AuditRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${READ_COLUMNS} FROM audit_records WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2)
     ORDER BY seq LIMIT $3`,
    [afterSeq, toSeq ?? null, limit],
    { prepare: true },
  );
  return rows.map(toRecord);
}

export async function hashOfSeq(db: Queryable, seq: number): Promise<string | undefined> {
  const { rows } = await db.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = $1', [seq]);
  return rows[0]?.hash;
}

// ---- queries

export interface RecordFilter {
  actor?: string;
  patient?: string;
  resource?: string;
  resourceType?: string;
  type?: string;
  action?: string;
  outcome?: AuditOutcome;
  category?: AuditRecord['category'];
  from?: string;
  to?: string;
}

/** Records matching every filter given, newest first (by seq), after the cursor's seq. */
export async function findRecords(
  db: Queryable,
  filter: RecordFilter,
  beforeSeq: number | undefined,
  limit: number,
): Promise<AuditRecord[]> {
  const { params, bind } = sqlParams();
  const where: string[] = [];
  if (filter.actor !== undefined) where.push(`actor_id = ${bind(filter.actor)}`);
  if (filter.patient !== undefined) where.push(`patient_ids @> ARRAY[${bind(filter.patient)}]::text[]`);
  if (filter.resource !== undefined) where.push(`resource_ids @> ARRAY[${bind(filter.resource)}]::text[]`);
  if (filter.resourceType !== undefined) where.push(`resource_type = ${bind(filter.resourceType)}`);
  if (filter.type !== undefined) where.push(`type = ${bind(filter.type)}`);
  if (filter.action !== undefined) where.push(`action = ${bind(filter.action)}`);
  if (filter.outcome !== undefined) where.push(`outcome = ${bind(filter.outcome)}`);
  if (filter.category !== undefined) where.push(`category = ${bind(filter.category)}`);
  if (filter.from !== undefined) where.push(`at >= ${bind(filter.from)}`);
  if (filter.to !== undefined) where.push(`at < ${bind(filter.to)}`);
  if (beforeSeq !== undefined) where.push(`seq < ${bind(beforeSeq)}`);
  const { rows } = await db.query<Row>(
    `SELECT ${READ_COLUMNS} FROM audit_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY seq DESC LIMIT ${bind(limit)}`,
    params,
  );
  return rows.map(toRecord);
}

export async function recordById(db: Queryable, id: string): Promise<AuditRecord | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${READ_COLUMNS} FROM audit_records WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}
