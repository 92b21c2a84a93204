import type { AuditOutcome, AuditRecord } from '@hms/contracts';
import { authorize, decodeCursor, invalid, toPage, type Caller } from '@hms/platform';
import type { AuditContext } from './context.js';
import { AuditErrors } from './errors.js';
import { findRecords, recordById, type RecordFilter } from './store.js';

/**
 * Reading the trail (auditors and admins: `audit:read`). Newest first, keyset paging by seq.
 * Reading it is itself recorded: the routes declare an access, and the kit's access records come
 * back to this service as events.
 */
export interface RecordQuery {
  actor?: string;
  patient?: string;
  resource?: string;
  resourceType?: string;
  type?: string;
  action?: string;
  outcome?: AuditOutcome;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

const isSeq = ([s]: (string | number)[]) => Number.isInteger(s) && (s as number) >= 1;

async function page(ctx: AuditContext, filter: RecordFilter, q: RecordQuery) {
  if (q.from !== undefined && q.to !== undefined && Date.parse(q.to) <= Date.parse(q.from))
    invalid([{ path: '/querystring/to', message: 'must be after from' }]);
  const before = decodeCursor(q.cursor, 1, isSeq)?.[0] as number | undefined;
  const limit = q.limit ?? 20;
  const rows = await findRecords(ctx.db, filter, before, limit + 1);
  return toPage(rows, limit, (r) => [r.seq]);
}

export async function listRecords(ctx: AuditContext, caller: Caller, q: RecordQuery) {
  authorize(caller, 'audit:read');
  const { actor, patient, resource, resourceType, type, action, outcome, from, to } = q;
  return page(ctx, { actor, patient, resource, resourceType, type, action, outcome, from, to }, q);
}

export async function getRecord(ctx: AuditContext, caller: Caller, id: string): Promise<AuditRecord> {
  authorize(caller, 'audit:read');
  const record = await recordById(ctx.db, id);
  if (!record) throw AuditErrors.record_not_found();
  return record;
}

/** The accounting of one patient's disclosures: every access record that names the patient. */
export async function patientAccesses(
  ctx: AuditContext,
  caller: Caller,
  patientId: string,
  q: Pick<RecordQuery, 'from' | 'to' | 'limit' | 'cursor'>,
) {
  authorize(caller, 'audit:read');
  return page(ctx, { patient: patientId, category: 'access', from: q.from, to: q.to }, q);
}

/** The patients a page of records names: what reading it disclosed (the access record's patients). */
export function patientsNamed(records: readonly AuditRecord[]): string[] {
  return [...new Set(records.flatMap((r) => r.patientIds))];
}
