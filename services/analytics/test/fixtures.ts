import type {
  Appointment,
  AppointmentStatus,
  Claim,
  ClaimStatus,
  EventEnvelope,
  EventType,
  Invoice,
  InvoiceStatus,
  Patient,
  Payment,
} from '@hms/contracts';
import { buildEnvelope, uuidv7, type NewEvent } from '@hms/platform';

/**
 * Events as their producers' outboxes would write them, built and checked against their schemas,
 * with PHI where the producers' carry it (names, birth dates, reasons, notes), so tests can prove
 * Analytics keeps none of it. `time` is the instant the producer wrote the event.
 */

const T0 = '2027-01-01T00:00:00.000Z';
export const PHI = {
  givenName: 'Zebulon',
  familyName: 'Quartermaine',
  birthDate: '1961-07-04',
  phone: '+1 212 555 0143',
  reason: 'persistent chest pain',
  notes: 'allergic reaction last spring',
  denialReason: 'member Zebulon Quartermaine not covered',
};

function envelope<T extends EventType>(event: NewEvent<T>, time: string): EventEnvelope {
  return { ...buildEnvelope(event.type.split('.')[0] ?? 'x', event), time };
}

/** The same event delivered again under a new event id (a producer that published it twice). */
export const republished = (e: EventEnvelope): EventEnvelope => ({ ...e, id: uuidv7() });

export function patientEvent(p: { id: string; version?: number; registeredAt: string }): EventEnvelope {
  const version = p.version ?? 1;
  const patient: Patient = {
    id: p.id,
    mrn: 'MRN-000123',
    givenName: PHI.givenName,
    familyName: PHI.familyName,
    birthDate: PHI.birthDate,
    sex: 'male',
    phone: PHI.phone,
    allergies: [],
    conditions: [],
    status: 'active',
    version,
    createdAt: p.registeredAt,
    updatedAt: p.registeredAt,
  };
  return version === 1
    ? envelope({ type: 'patient.registered.v1', subject: p.id, data: { patient } }, p.registeredAt)
    : envelope(
        { type: 'patient.updated.v1', subject: p.id, data: { patient, changedFields: ['phone'] } },
        p.registeredAt,
      );
}

const STAFF = '0190f3a0-0000-7000-8000-00000000a001';
const PATIENT = '0190f3a0-0000-7000-8000-00000000b001';

/** An appointment event at a version: created (v1), cancelled, or updated to the status. */
export function appointmentEvent(a: {
  id: string;
  version: number;
  status: AppointmentStatus;
  start: string;
}): EventEnvelope {
  const end = new Date(Date.parse(a.start) + 30 * 60_000).toISOString();
  const appointment: Appointment = {
    id: a.id,
    patientId: PATIENT,
    staffId: STAFF,
    type: 'consult-30',
    start: a.start,
    end,
    bufferBeforeMin: 0,
    bufferAfterMin: 0,
    reason: PHI.reason,
    status: a.status,
    history: [],
    version: a.version,
    createdAt: T0,
    updatedAt: T0,
  };
  if (a.version === 1)
    return envelope({ type: 'appointment.created.v1', subject: a.id, data: { appointment } }, T0);
  if (a.status === 'cancelled')
    return envelope(
      {
        type: 'appointment.cancelled.v1',
        subject: a.id,
        data: { appointment, reason: PHI.reason, scope: 'this' },
      },
      T0,
    );
  const change = a.status === 'scheduled' ? 'rescheduled' : a.status;
  return envelope({ type: 'appointment.updated.v1', subject: a.id, data: { appointment, change } }, T0);
}

export function fillEvent(f: { fillId: string; completedAt: string }): EventEnvelope {
  const prescriptionId = uuidv7();
  const fill = {
    id: f.fillId,
    state: 'completed' as const,
    at: f.completedAt,
    by: 'svc:pharmacy',
    quantities: [],
    completedAt: f.completedAt,
  };
  return envelope(
    {
      type: 'prescription.filled.v1',
      subject: prescriptionId,
      data: {
        prescription: {
          id: prescriptionId,
          patientId: PATIENT,
          prescriberId: STAFF,
          items: [],
          notes: PHI.notes,
          status: 'filled',
          validUntil: '2028-01-01T00:00:00.000Z',
          allergyAlerts: [],
          fills: [fill],
          createdBy: STAFF,
          version: 2,
          createdAt: T0,
          updatedAt: f.completedAt,
        },
        fill,
      },
    },
    f.completedAt,
  );
}

/** A stock-low crossing, written by Inventory at `at`. */
export function stockLowEvent(at: string): EventEnvelope {
  const id = uuidv7();
  return envelope(
    {
      type: 'inventory.stock-low.v1',
      subject: id,
      data: {
        item: {
          id,
          sku: 'AMOX-500',
          name: 'Amoxicillin 500 mg',
          category: 'antibiotics',
          unit: 'capsule',
          reorderThreshold: 10,
          reorderQuantity: 100,
          quantityOnHand: 4,
          reserved: 0,
          available: 4,
          lots: [],
          version: 1,
          createdAt: T0,
          updatedAt: T0,
        },
        available: 4,
        reorderThreshold: 10,
      },
    },
    at,
  );
}

export interface InvoiceFacts {
  id: string;
  version: number;
  status: InvoiceStatus;
  currency: string;
  total: number;
  paid?: number;
  issuedAt: string;
}

export function invoiceOf(i: InvoiceFacts): Invoice {
  const paid = i.paid ?? 0;
  return {
    id: i.id,
    number: 'INV-2027-000001',
    patientId: PATIENT,
    currency: i.currency,
    status: i.status,
    lines: [
      {
        line: 1,
        code: 'consult-30',
        description: 'Consultation',
        quantity: 1,
        unitPrice: i.total,
        amount: i.total,
        adjusted: 0,
      },
    ],
    total: i.total,
    paid,
    adjusted: 0,
    balance: i.total - paid,
    needsPricing: false,
    refundDue: 0,
    payments: [],
    adjustments: [],
    notes: PHI.notes,
    issuedAt: i.issuedAt,
    createdBy: STAFF,
    version: i.version,
    createdAt: T0,
    updatedAt: i.issuedAt,
  };
}

export const invoiceGenerated = (i: InvoiceFacts): EventEnvelope =>
  envelope(
    { type: 'billing.invoice-generated.v1', subject: i.id, data: { invoice: invoiceOf(i) } },
    i.issuedAt,
  );

export function paymentOf(p: {
  id: string;
  invoiceId: string;
  amount: number;
  currency: string;
  at: string;
  claimId?: string;
}): Payment {
  return {
    id: p.id,
    invoiceId: p.invoiceId,
    amount: p.amount,
    currency: p.currency,
    method: p.claimId ? 'insurance' : 'card',
    ...(p.claimId ? { claimId: p.claimId } : {}),
    recordedBy: STAFF,
    recordedAt: p.at,
  };
}

export const paymentRecorded = (payment: Payment, invoice: InvoiceFacts): EventEnvelope =>
  envelope(
    {
      type: 'billing.payment-recorded.v1',
      subject: invoice.id,
      data: { payment, invoice: invoiceOf(invoice) },
    },
    payment.recordedAt,
  );

export interface ClaimFacts {
  id: string;
  invoiceId: string;
  version: number;
  status: ClaimStatus;
  currency: string;
  amount: number;
  /** when it was approved or denied */
  adjudicatedAt?: string;
  denialCode?: string;
}

export function claimOf(c: ClaimFacts): Claim {
  const history: Claim['history'] = [
    { at: T0, action: 'created', by: STAFF },
    { at: T0, action: 'submitted', by: STAFF },
  ];
  if (c.adjudicatedAt)
    history.push({
      at: c.adjudicatedAt,
      action: c.status === 'denied' ? 'denied' : 'approved',
      by: STAFF,
      ...(c.status === 'denied' ? { reason: PHI.denialReason } : {}),
    });
  return {
    id: c.id,
    invoiceId: c.invoiceId,
    patientId: PATIENT,
    payer: 'Acme Health',
    memberId: 'M-99812',
    amount: c.amount,
    currency: c.currency,
    status: c.status,
    ...(c.status === 'denied' ? { denialReason: PHI.denialReason } : {}),
    ...(c.denialCode ? { denialCode: c.denialCode } : {}),
    ...(c.status === 'approved' || c.status === 'paid' ? { approvedAmount: c.amount } : {}),
    history,
    createdBy: STAFF,
    version: c.version,
    createdAt: T0,
    updatedAt: c.adjudicatedAt ?? T0,
  };
}

const CLAIM_EVENT = {
  submitted: 'billing.claim-submitted.v1',
  approved: 'billing.claim-approved.v1',
  denied: 'billing.claim-denied.v1',
} as const;

/** A claim's submission, approval or denial (a paid claim's event is `claimPaid`). */
export function claimEvent(c: ClaimFacts): EventEnvelope {
  if (c.status === 'draft' || c.status === 'paid') throw new Error(`no claim event of status ${c.status}`);
  return envelope(
    { type: CLAIM_EVENT[c.status], subject: c.id, data: { claim: claimOf(c) } },
    c.adjudicatedAt ?? T0,
  );
}

export const claimPaid = (c: ClaimFacts, payment: Payment, invoice: InvoiceFacts): EventEnvelope =>
  envelope(
    {
      type: 'billing.claim-paid.v1',
      subject: c.id,
      data: { claim: claimOf(c), payment, invoice: invoiceOf(invoice) },
    },
    payment.recordedAt,
  );
