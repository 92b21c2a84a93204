import type { AccessRecord, AuditActor, AuditOutcome, EventEnvelope } from '@hms/contracts';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { RecordDraft } from './chain.js';

/**
 * What the trail keeps of an event: its envelope's metadata, who did it, which patients it
 * concerns, which fields it changed, and a digest of its data, never the data's values.
 *
 * Any catalogue type is recorded generically: the patients are every `patientId` in the data
 * (and the subject of a `patient.*` event), the changed fields a `changedFields` list, the actor
 * the envelope's `actor` (the verified caller of the request that made the change, or
 * `svc:<name>` for a service's own work), else an `actor` or `by` field of the data. The table
 * below only says where a type knows better (a login's actor is the user logging in, not the
 * auth service) or keeps what the generic rule does not find; a type added to the catalogue
 * later is recorded without an entry here.
 */
export interface EventFacts {
  actor?: string;
  patientIds: string[];
  changedFields: string[];
  outcome?: AuditOutcome;
}

type Data = Record<string, unknown>;
type Rule = (data: Data) => Partial<EventFacts>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Data => (v !== null && typeof v === 'object' ? (v as Data) : {});

/** The `by` of the latest history entry (an appointment's, a claim's): who made this change. */
const lastHistoryBy = (resource: unknown): string | undefined => {
  const history = obj(resource).history;
  return Array.isArray(history) ? str(obj(history[history.length - 1]).by) : undefined;
};

const TYPE_RULES: Readonly<Record<string, Rule>> = {
  'appointment.created.v1': (d) => ({ actor: lastHistoryBy(d.appointment) }),
  'appointment.updated.v1': (d) => ({ actor: lastHistoryBy(d.appointment) }),
  'appointment.cancelled.v1': (d) => ({ actor: lastHistoryBy(d.appointment) }),
  'prescription.created.v1': (d) => ({ actor: str(obj(d.prescription).createdBy) }),
  'prescription.filled.v1': (d) => ({ actor: str(obj(d.fill).by) }),
  'inventory.stock-adjusted.v1': (d) => ({ actor: str(obj(d.adjustment).actor) }),
  'inventory.stock-replenished.v1': (d) => ({ actor: str(obj(obj(d.order).receipt).receivedBy) }),
  'billing.invoice-generated.v1': (d) => ({ actor: str(obj(d.invoice).createdBy) }),
  'billing.payment-recorded.v1': (d) => ({ actor: str(obj(d.payment).recordedBy) }),
  'billing.claim-submitted.v1': (d) => ({ actor: lastHistoryBy(d.claim) }),
  'billing.claim-approved.v1': (d) => ({ actor: lastHistoryBy(d.claim) }),
  'billing.claim-denied.v1': (d) => ({ actor: lastHistoryBy(d.claim) }),
  'billing.claim-paid.v1': (d) => ({ actor: lastHistoryBy(d.claim) }),
  'analytics.report-generated.v1': (d) => ({ actor: str(d.generatedBy) }),
  // the user logging in is the actor; a refused login names one only when the name matched
  'auth.login-succeeded.v1': (d) => ({ actor: str(d.userId), outcome: 'granted' }),
  'auth.login-failed.v2': (d) => ({ actor: str(d.userId), outcome: 'refused' }),
  'auth.throttled.v1': () => ({ outcome: 'refused' }),
};

/** Every string under a `patientId` key, however deep (bounded: event data is a few levels). */
function patientIdsIn(value: unknown, found: Set<string>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) patientIdsIn(v, found, depth + 1);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === 'patientId' && typeof v === 'string') found.add(v);
    else patientIdsIn(v, found, depth + 1);
  }
}

export function factsOf(type: string, subject: string, data: unknown, envelopeActor?: string): EventFacts {
  const d = obj(data);
  const patients = new Set<string>();
  if (type.startsWith('patient.')) patients.add(subject);
  patientIdsIn(d, patients);
  const changed = Array.isArray(d.changedFields) ? d.changedFields.filter((f) => typeof f === 'string') : [];
  const facts: EventFacts = {
    actor: str(envelopeActor) ?? str(d.actor) ?? str(d.by),
    patientIds: [...patients],
    changedFields: changed,
  };
  const rule = TYPE_RULES[type];
  if (!rule) return facts;
  const specific = rule(d);
  return {
    ...facts,
    ...specific,
    actor: specific.actor ?? facts.actor,
  };
}

/** A user id, or `svc:<name>` for a service acting on its own. */
export function actorOf(id: string | undefined): AuditActor | undefined {
  if (id === undefined) return undefined;
  return { kind: id.startsWith('svc:') ? 'service' : 'user', id };
}

/** An answer's outcome: 2xx/3xx granted, 401/403/429 refused, anything else failed. */
export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'refused';
  return status < 400 ? 'granted' : 'failed';
}

/** When it happened, in the form the database gives back (milliseconds, UTC), so it hashes alike. */
const instant = (time: string) => new Date(time).toISOString();

/** Who made the record, and when: the fields every draft has from the recorder. */
export interface Stamp {
  id: () => string;
  recordedAt: string;
}

/** The draft of a domain or security event: its metadata and the digest of its data. */
export function eventDraft(envelope: EventEnvelope, stamp: Stamp): RecordDraft {
  const facts = factsOf(envelope.type, envelope.subject, envelope.data, envelope.actor);
  return {
    id: stamp.id(),
    recordedAt: stamp.recordedAt,
    category: 'event',
    type: envelope.type,
    eventId: envelope.id,
    item: 0,
    source: envelope.source,
    subject: envelope.subject,
    at: instant(envelope.time),
    actor: actorOf(facts.actor),
    outcome: facts.outcome,
    resource: { type: envelope.type.split('.')[0] ?? envelope.type, ids: [envelope.subject] },
    patientIds: facts.patientIds,
    changedFields: facts.changedFields,
    dataDigest: sha256Hex(canonicalJson(envelope.data)),
  };
}

/** One draft per access record of an `access.recorded.v1` batch, in the batch's order. */
export function accessDrafts(
  envelope: EventEnvelope,
  records: readonly AccessRecord[],
  stamp: Stamp,
): RecordDraft[] {
  return records.map((r, item) => ({
    id: stamp.id(),
    recordedAt: stamp.recordedAt,
    category: 'access',
    type: envelope.type,
    eventId: envelope.id,
    item,
    source: envelope.source,
    subject: envelope.subject,
    at: instant(r.at),
    actor: r.actor.id === undefined ? { kind: r.actor.kind } : { kind: r.actor.kind, id: r.actor.id },
    action: r.action,
    outcome: outcomeOf(r.status),
    status: r.status,
    service: r.service,
    method: r.method,
    route: r.route,
    requestId: r.requestId,
    clientIp: r.clientIp,
    resource: { type: r.resource.type, ids: [...r.resource.ids] },
    patientIds: [...r.patientIds],
    changedFields: [],
  }));
}
