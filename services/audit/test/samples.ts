import { randomUUID } from 'node:crypto';

/**
 * One valid `data` (and subject) per event type of the catalogue, for the fan-out test: every
 * type in EVENT_TYPES must have one here. A type added to the catalogue without a sample fails
 * that test, naming the type: add its sample below (valid against its schema: the test checks).
 */
const at = '2025-03-01T10:00:00.000Z';
const id = () => randomUUID();

const patient = () => ({
  id: id(),
  mrn: 'MRN-000001',
  givenName: 'Sample',
  familyName: 'Fanout',
  birthDate: '1970-01-01',
  sex: 'unknown',
  allergies: [],
  conditions: [],
  status: 'active',
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const staff = () => ({
  id: id(),
  givenName: 'Sample',
  familyName: 'Staff',
  role: 'physician',
  department: 'General',
  specialties: [],
  active: true,
  timezone: 'UTC',
  weeklyHours: [],
  overrides: [],
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const appointment = () => ({
  id: id(),
  patientId: id(),
  staffId: id(),
  type: 'consult-30',
  start: '2025-03-02T10:00:00.000Z',
  end: '2025-03-02T10:30:00.000Z',
  bufferBeforeMin: 0,
  bufferAfterMin: 0,
  status: 'scheduled',
  history: [{ at, action: 'booked', by: id() }],
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const fill = () => ({ id: id(), state: 'completed', at, by: id(), quantities: [] });

const prescription = () => ({
  id: id(),
  patientId: id(),
  prescriberId: id(),
  items: [
    {
      medicationId: id(),
      dose: '500 mg',
      route: 'oral',
      frequency: 'tid',
      quantity: 21,
      refills: 0,
      refillsRemaining: 0,
      dispensed: 0,
      pending: 0,
    },
  ],
  status: 'active',
  validUntil: '2026-03-01T10:00:00.000Z',
  allergyAlerts: [],
  fills: [],
  createdBy: id(),
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const item = () => ({
  id: id(),
  sku: 'AMOX-500',
  name: 'Amoxicillin 500 mg',
  category: 'antibiotics',
  unit: 'capsule',
  reorderThreshold: 10,
  reorderQuantity: 50,
  quantityOnHand: 5,
  reserved: 0,
  available: 5,
  lots: [],
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const invoice = () => ({
  id: id(),
  number: 'INV-2025-000001',
  patientId: id(),
  currency: 'USD',
  status: 'issued',
  lines: [
    {
      line: 1,
      code: 'consult-30',
      description: 'Consultation',
      quantity: 1,
      unitPrice: 5000,
      amount: 5000,
      adjusted: 0,
    },
  ],
  total: 5000,
  paid: 0,
  adjusted: 0,
  balance: 5000,
  needsPricing: false,
  refundDue: 0,
  payments: [],
  adjustments: [],
  createdBy: id(),
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const payment = (invoiceId: string) => ({
  id: id(),
  invoiceId,
  amount: 5000,
  currency: 'USD',
  method: 'card',
  recordedBy: id(),
  recordedAt: at,
});

const claim = (status: string) => ({
  id: id(),
  invoiceId: id(),
  patientId: id(),
  payer: 'Sample Insurer',
  memberId: 'M-1',
  amount: 5000,
  currency: 'USD',
  status,
  history: [{ at, action: 'created', by: id() }],
  createdBy: id(),
  version: 1,
  createdAt: at,
  updatedAt: at,
});

const dashboard = () => ({
  from: '2025-03-01',
  to: '2025-03-01',
  timezone: 'UTC',
  patientsRegistered: 0,
  appointments: { scheduled: 0, checkedIn: 0, completed: 0, cancelled: 0, noShow: 0 },
  noShowRate: null,
  prescriptionsFilled: 0,
  stockAlerts: 0,
  invoiced: [],
  paid: [],
  denied: [],
  claims: { approved: 0, denied: 0, adjudicated: 0 },
  claimDenialRate: null,
});

const withSubject =
  <T extends { id: string }>(key: string, make: () => T) =>
  () => {
    const value = make();
    return { subject: value.id, data: { [key]: value } };
  };

export const SAMPLES: Record<string, () => { subject: string; data: unknown }> = {
  'patient.registered.v1': withSubject('patient', patient),
  'patient.updated.v1': () => {
    const p = patient();
    return { subject: p.id, data: { patient: p, changedFields: ['phone'] } };
  },
  'staff.onboarded.v1': withSubject('staff', staff),
  'staff.updated.v1': () => {
    const s = staff();
    return { subject: s.id, data: { staff: s, changedFields: ['department'] } };
  },
  'staff.time-off-recorded.v1': withSubject('timeOff', () => ({
    id: id(),
    staffId: id(),
    start: at,
    end: '2025-03-02T10:00:00.000Z',
    createdAt: at,
  })),
  'staff.time-off-removed.v1': withSubject('timeOff', () => ({
    id: id(),
    staffId: id(),
    start: at,
    end: '2025-03-02T10:00:00.000Z',
    createdAt: at,
  })),
  'staff.closure-added.v1': withSubject('closure', () => ({
    id: id(),
    date: '2025-12-25',
    name: 'Holiday',
    timezone: 'UTC',
    createdAt: at,
  })),
  'staff.closure-removed.v1': withSubject('closure', () => ({
    id: id(),
    date: '2025-12-25',
    name: 'Holiday',
    timezone: 'UTC',
    createdAt: at,
  })),
  'appointment.created.v1': withSubject('appointment', appointment),
  'appointment.updated.v1': () => {
    const a = appointment();
    return { subject: a.id, data: { appointment: a, change: 'updated' } };
  },
  'appointment.cancelled.v1': () => {
    const a = { ...appointment(), status: 'cancelled' };
    return { subject: a.id, data: { appointment: a, scope: 'this' } };
  },
  'prescription.created.v1': withSubject('prescription', prescription),
  'prescription.cancelled.v1': withSubject('prescription', () => ({
    ...prescription(),
    status: 'cancelled',
  })),
  'prescription.expired.v1': withSubject('prescription', () => ({ ...prescription(), status: 'expired' })),
  'prescription.filled.v1': () => {
    const p = { ...prescription(), status: 'completed' };
    return { subject: p.id, data: { prescription: p, fill: fill() } };
  },
  'medication.dispensed.v1': () => {
    const dispenseId = id();
    return {
      subject: dispenseId,
      data: {
        dispenseId,
        patientId: id(),
        reservationId: id(),
        itemId: id(),
        quantity: 2,
        lots: [{ lotNumber: 'L1', quantity: 2 }],
        dispensedAt: at,
      },
    };
  },
  'inventory.stock-low.v1': () => {
    const i = item();
    return { subject: i.id, data: { item: i, available: 5, reorderThreshold: 10 } };
  },
  'inventory.stock-replenished.v1': () => {
    const i = item();
    const order = {
      id: id(),
      itemId: i.id,
      quantity: 50,
      status: 'received',
      orderedBy: id(),
      orderedAt: at,
      receipt: { lotNumber: 'L2', expiry: '2027-01-31', quantity: 50, receivedBy: id(), receivedAt: at },
    };
    return { subject: i.id, data: { item: i, order } };
  },
  'inventory.stock-adjusted.v1': () => {
    const i = item();
    const adjustment = {
      id: id(),
      itemId: i.id,
      lotNumber: 'L1',
      quantity: -1,
      lotQuantityAfter: 4,
      reason: 'damaged',
      actor: id(),
      at,
    };
    return { subject: i.id, data: { item: i, adjustment } };
  },
  'billing.invoice-generated.v1': withSubject('invoice', invoice),
  'billing.payment-recorded.v1': () => {
    const i = invoice();
    return { subject: i.id, data: { payment: payment(i.id), invoice: i } };
  },
  'billing.claim-submitted.v1': withSubject('claim', () => claim('submitted')),
  'billing.claim-approved.v1': withSubject('claim', () => ({ ...claim('approved'), approvedAmount: 4000 })),
  'billing.claim-denied.v1': withSubject('claim', () => ({
    ...claim('denied'),
    denialReason: 'not covered',
  })),
  'billing.claim-paid.v1': () => {
    const i = invoice();
    const c = { ...claim('paid'), invoiceId: i.id, approvedAmount: 5000, paidAmount: 5000 };
    return {
      subject: c.id,
      data: { claim: c, payment: { ...payment(i.id), method: 'insurance', claimId: c.id }, invoice: i },
    };
  },
  'analytics.dashboard-updated.v1': () => ({
    subject: 'dashboard',
    data: { dashboard: dashboard(), asOf: at },
  }),
  'analytics.report-generated.v1': () => ({
    subject: 'daily',
    data: {
      reportType: 'daily',
      from: '2025-03-01',
      to: '2025-03-01',
      format: 'json',
      rows: 1,
      generatedBy: id(),
      generatedAt: at,
    },
  }),
  'auth.login-succeeded.v1': () => {
    const userId = id();
    return { subject: userId, data: { userId, username: 'sample', sessionId: id(), ip: '10.0.0.1', at } };
  },
  'auth.login-failed.v2': () => ({
    subject: 'login',
    data: { userMatched: false, reason: 'invalid_credentials', ip: '10.0.0.1', at },
  }),
  'auth.throttled.v1': () => ({
    subject: '10.0.0.1',
    data: { scope: 'ip', ip: '10.0.0.1', retryAfterSec: 60, at },
  }),
  'auth.user-created.v1': () => {
    const userId = id();
    return {
      subject: userId,
      data: { userId, username: 'sample', roles: ['nurse'], status: 'active', actor: id(), at },
    };
  },
  'auth.user-updated.v1': () => {
    const userId = id();
    return {
      subject: userId,
      data: {
        userId,
        username: 'sample',
        roles: ['nurse'],
        status: 'locked',
        changedFields: ['status'],
        actor: id(),
        at,
      },
    };
  },
  'auth.password-reset.v1': () => {
    const userId = id();
    return { subject: userId, data: { userId, username: 'sample', actor: id(), at } };
  },
  'auth.session-revoked.v1': () => {
    const userId = id();
    return { subject: userId, data: { userId, sessionId: id(), reason: 'logout', actor: userId, at } };
  },
  'access.recorded.v1': () => ({
    subject: 'patient',
    data: {
      records: [
        {
          at,
          service: 'patient',
          requestId: id(),
          actor: { kind: 'user', id: id() },
          action: 'read',
          method: 'GET',
          route: '/api/v1/patients/:id',
          resource: { type: 'patient', ids: [id()] },
          patientIds: [id()],
          status: 200,
          clientIp: '10.0.0.1',
        },
      ],
    },
  }),
};

export function sampleOf(type: string): { subject: string; data: unknown } {
  const make = SAMPLES[type];
  if (!make)
    throw new Error(
      `no sample event for ${type}: add one to services/audit/test/samples.ts (the audit fan-out test sends every catalogue type)`,
    );
  return make();
}
