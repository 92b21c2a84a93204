import type {
  AppointmentStatus,
  Claim,
  ClaimStatus,
  EventData,
  EventEnvelope,
  EventType,
  Invoice,
  InvoiceStatus,
  Payment,
} from '@hms/contracts';

/**
 * What Analytics keeps of an event: the facts the read models are computed from, each about one
 * aggregate at one version. Built field by field from the event (a whitelist), so no name, contact
 * detail, birth date, free-text reason or note is ever kept: ids, codes, statuses, amounts and
 * instants only.
 *
 * Aggregates that never change (a payment, a completed fill, a stock alert) have version 1.
 */
export type Fact =
  | { kind: 'patient'; id: string; version: number; registeredAt: string }
  | { kind: 'appointment'; id: string; version: number; status: AppointmentStatus; start: string }
  | { kind: 'fill'; id: string; version: 1; completedAt: string }
  | { kind: 'stock-alert'; id: string; version: 1; at: string }
  | {
      kind: 'invoice';
      id: string;
      version: number;
      status: InvoiceStatus;
      currency: string;
      total: number;
      issuedAt?: string;
    }
  | { kind: 'payment'; id: string; version: 1; currency: string; amount: number; recordedAt: string }
  | {
      kind: 'claim';
      id: string;
      version: number;
      status: ClaimStatus;
      currency: string;
      amount: number;
      adjudicatedAt?: string;
      denialCode?: string;
    };

export type FactKind = Fact['kind'];

/** An event as Analytics keeps it. */
export interface KeptEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  /** The ids it is about, for the recent-events list (never a patient's other than its own subject). */
  ids: Record<string, string>;
  facts: Fact[];
}

/** Every event type Analytics consumes. */
export const CONSUMED_EVENTS = [
  'patient.registered.v1',
  'patient.updated.v1',
  'appointment.created.v1',
  'appointment.updated.v1',
  'appointment.cancelled.v1',
  'prescription.filled.v1',
  'inventory.stock-low.v1',
  'billing.invoice-generated.v1',
  'billing.payment-recorded.v1',
  'billing.claim-submitted.v1',
  'billing.claim-approved.v1',
  'billing.claim-denied.v1',
  'billing.claim-paid.v1',
] as const satisfies readonly EventType[];
export type ConsumedEvent = (typeof CONSUMED_EVENTS)[number];

export const isConsumed = (type: string): type is ConsumedEvent =>
  (CONSUMED_EVENTS as readonly string[]).includes(type);

const invoiceFact = (i: Invoice): Fact => ({
  kind: 'invoice',
  id: i.id,
  version: i.version,
  status: i.status,
  currency: i.currency,
  total: i.total,
  ...(i.issuedAt ? { issuedAt: i.issuedAt } : {}),
});

const paymentFact = (p: Payment): Fact => ({
  kind: 'payment',
  id: p.id,
  version: 1,
  currency: p.currency,
  amount: p.amount,
  recordedAt: p.recordedAt,
});

/** When a claim was approved or denied: its history's last such step. */
function adjudicatedAt(c: Claim): string | undefined {
  const step = c.history.filter((h) => h.action === 'approved' || h.action === 'denied').at(-1);
  return step?.at;
}

function claimFact(c: Claim): Fact {
  const at = adjudicatedAt(c);
  return {
    kind: 'claim',
    id: c.id,
    version: c.version,
    status: c.status,
    currency: c.currency,
    amount: c.amount,
    ...(at ? { adjudicatedAt: at } : {}),
    ...(c.denialCode ? { denialCode: c.denialCode } : {}),
  };
}

/** The facts and ids of an event whose data the kit checked against its schema. */
function factsAndIds(envelope: EventEnvelope & { type: ConsumedEvent }): Pick<KeptEvent, 'facts' | 'ids'> {
  const data = <T extends ConsumedEvent>(_type: T) => envelope.data as EventData<T>;
  switch (envelope.type) {
    case 'patient.registered.v1':
    case 'patient.updated.v1': {
      const { patient } = data('patient.registered.v1');
      return {
        facts: [
          { kind: 'patient', id: patient.id, version: patient.version, registeredAt: patient.createdAt },
        ],
        ids: { patientId: patient.id },
      };
    }
    case 'appointment.created.v1':
    case 'appointment.updated.v1':
    case 'appointment.cancelled.v1': {
      const { appointment: a } = data('appointment.created.v1');
      return {
        facts: [{ kind: 'appointment', id: a.id, version: a.version, status: a.status, start: a.start }],
        ids: { appointmentId: a.id, staffId: a.staffId, ...(a.seriesId ? { seriesId: a.seriesId } : {}) },
      };
    }
    case 'prescription.filled.v1': {
      const { prescription, fill } = data('prescription.filled.v1');
      const ids = { prescriptionId: prescription.id, fillId: fill.id };
      if (fill.state !== 'completed') return { facts: [], ids };
      return {
        facts: [{ kind: 'fill', id: fill.id, version: 1, completedAt: fill.completedAt ?? fill.at }],
        ids,
      };
    }
    case 'inventory.stock-low.v1': {
      const { item } = data('inventory.stock-low.v1');
      // the event names no crossing of its own: the alert is the event, at the time it was written
      return {
        facts: [{ kind: 'stock-alert', id: envelope.id, version: 1, at: envelope.time }],
        ids: { itemId: item.id },
      };
    }
    case 'billing.invoice-generated.v1': {
      const { invoice } = data('billing.invoice-generated.v1');
      return { facts: [invoiceFact(invoice)], ids: { invoiceId: invoice.id } };
    }
    case 'billing.payment-recorded.v1': {
      const { payment, invoice } = data('billing.payment-recorded.v1');
      return {
        facts: [paymentFact(payment), invoiceFact(invoice)],
        ids: { paymentId: payment.id, invoiceId: invoice.id },
      };
    }
    case 'billing.claim-submitted.v1':
    case 'billing.claim-approved.v1':
    case 'billing.claim-denied.v1': {
      const { claim } = data('billing.claim-submitted.v1');
      return { facts: [claimFact(claim)], ids: { claimId: claim.id, invoiceId: claim.invoiceId } };
    }
    case 'billing.claim-paid.v1': {
      const { claim, payment, invoice } = data('billing.claim-paid.v1');
      return {
        facts: [claimFact(claim), paymentFact(payment), invoiceFact(invoice)],
        ids: { claimId: claim.id, paymentId: payment.id, invoiceId: invoice.id },
      };
    }
  }
}

/** The event as Analytics keeps it; undefined for a type it does not consume. */
export function keptEventOf(envelope: EventEnvelope): KeptEvent | undefined {
  const { type } = envelope;
  if (!isConsumed(type)) return undefined;
  return {
    id: envelope.id,
    type,
    subject: envelope.subject,
    time: envelope.time,
    ...factsAndIds({ ...envelope, type }),
  };
}
