import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import './formats.js';
import { Timestamp, Uuid } from './common.js';
import {
  AuthLoginFailedV2,
  AuthLoginSucceededV1,
  AuthPasswordResetV1,
  AuthSessionRevokedV1,
  AuthThrottledV1,
  AuthUserCreatedV1,
  AuthUserUpdatedV1,
} from './auth.js';
import { AccessRecordedV1 } from './access.js';
import { PatientRegisteredV1, PatientUpdatedV1 } from './patient.js';
import {
  StaffClosureAddedV1,
  StaffClosureRemovedV1,
  StaffOnboardedV1,
  StaffTimeOffRecordedV1,
  StaffTimeOffRemovedV1,
  StaffUpdatedV1,
} from './staff.js';
import { AppointmentCancelledV1, AppointmentCreatedV1, AppointmentUpdatedV1 } from './appointment.js';
import { InventoryStockAdjustedV1, InventoryStockLowV1, InventoryStockReplenishedV1 } from './inventory.js';
import {
  MedicationDispensedV1,
  PrescriptionCancelledV1,
  PrescriptionCreatedV1,
  PrescriptionExpiredV1,
  PrescriptionFilledV1,
} from './pharmacy.js';
import {
  BillingClaimApprovedV1,
  BillingClaimDeniedV1,
  BillingClaimPaidV1,
  BillingClaimSubmittedV1,
  BillingInvoiceGeneratedV1,
  BillingPaymentRecordedV1,
} from './billing.js';
import { AnalyticsDashboardUpdatedV1, AnalyticsReportGeneratedV1 } from './analytics.js';

/**
 * The event registry: every event type the platform publishes, with the JSON Schema of its
 * `data`. Types are versioned (`<aggregate>.<fact>.v<N>`); a breaking change is a new version.
 */
export const EVENT_TYPES = {
  'patient.registered.v1': {
    schema: PatientRegisteredV1,
    producer: 'patient',
    description: 'A patient was registered; carries the full record.',
  },
  'patient.updated.v1': {
    schema: PatientUpdatedV1,
    producer: 'patient',
    description:
      'A patient record changed (including deactivation); carries the full record and which fields changed.',
  },
  'staff.onboarded.v1': {
    schema: StaffOnboardedV1,
    producer: 'staff',
    description: 'A staff member was onboarded; carries the full record, schedule included.',
  },
  'staff.updated.v1': {
    schema: StaffUpdatedV1,
    producer: 'staff',
    description:
      'A staff record changed (schedule and deactivation included); carries the full record and which fields changed.',
  },
  'staff.time-off-recorded.v1': {
    schema: StaffTimeOffRecordedV1,
    producer: 'staff',
    description: 'Time off of a staff member was recorded (immutable; removed by its own event).',
  },
  'staff.time-off-removed.v1': {
    schema: StaffTimeOffRemovedV1,
    producer: 'staff',
    description: 'Time off of a staff member was deleted.',
  },
  'staff.closure-added.v1': {
    schema: StaffClosureAddedV1,
    producer: 'staff',
    description: "The facility is closed on a date (in the facility's time zone), for everyone.",
  },
  'staff.closure-removed.v1': {
    schema: StaffClosureRemovedV1,
    producer: 'staff',
    description: 'A facility closure was deleted (the facility reopens on that date).',
  },
  'appointment.created.v1': {
    schema: AppointmentCreatedV1,
    producer: 'appointment',
    description:
      'An appointment was booked (one event per occurrence of a series, each with its seriesId); carries the whole appointment with its version.',
  },
  'appointment.updated.v1': {
    schema: AppointmentUpdatedV1,
    producer: 'appointment',
    description:
      'An appointment was rescheduled (same id; the previous slot in the event and its history), changed, checked in, completed or marked no-show.',
  },
  'appointment.cancelled.v1': {
    schema: AppointmentCancelledV1,
    producer: 'appointment',
    description:
      "An appointment was cancelled (scope 'following': one event per occurrence cancelled with it).",
  },
  'prescription.created.v1': {
    schema: PrescriptionCreatedV1,
    producer: 'pharmacy',
    description:
      'A prescription was written; carries it whole with its version, and the overrideReason and allergyAlerts when an allergy was overridden.',
  },
  'prescription.cancelled.v1': {
    schema: PrescriptionCancelledV1,
    producer: 'pharmacy',
    description: 'A prescription was cancelled (with its reason): it can no longer be filled.',
  },
  'prescription.expired.v1': {
    schema: PrescriptionExpiredV1,
    producer: 'pharmacy',
    description: 'A prescription passed its validUntil while still fillable: it can no longer be filled.',
  },
  'prescription.filled.v1': {
    schema: PrescriptionFilledV1,
    producer: 'pharmacy',
    description:
      'A fill of a prescription completed (its medication.dispensed.v1 events go out with it); carries the prescription after it and the fill with its lots.',
  },
  'medication.dispensed.v1': {
    schema: MedicationDispensedV1,
    producer: 'pharmacy',
    description:
      "Medication left the shelf: carries the Inventory reservation it consumed and that reservation's lots (Inventory decrements them once).",
  },
  'inventory.stock-low.v1': {
    schema: InventoryStockLowV1,
    producer: 'inventory',
    description:
      "An item's usable stock (unexpired, unreserved) fell below its reorder threshold: once per crossing, re-armed when it is back at or above it.",
  },
  'inventory.stock-replenished.v1': {
    schema: InventoryStockReplenishedV1,
    producer: 'inventory',
    description:
      'A purchase order was received: its lot was added to the item; carries the item and the order.',
  },
  'inventory.stock-adjusted.v1': {
    schema: InventoryStockAdjustedV1,
    producer: 'inventory',
    description:
      "A lot's quantity was adjusted by hand (damaged, count correction, returned…) or written off by the expiry job; carries the ledger entry and the item after it.",
  },
  'billing.invoice-generated.v1': {
    schema: BillingInvoiceGeneratedV1,
    producer: 'billing',
    description:
      'An invoice was issued (drafts are not announced); carries it whole: lines, total, balance, status, currency, patientId, appointmentId, version.',
  },
  'billing.payment-recorded.v1': {
    schema: BillingPaymentRecordedV1,
    producer: 'billing',
    description:
      "A payment was recorded on an invoice, at the desk or an insurer's through a paid claim (method insurance); carries the payment and the invoice after it.",
  },
  'billing.claim-submitted.v1': {
    schema: BillingClaimSubmittedV1,
    producer: 'billing',
    description:
      'An insurance claim was submitted to its payer (a resubmission names the denied claim in resubmissionOf); carries the claim with its history and version.',
  },
  'billing.claim-approved.v1': {
    schema: BillingClaimApprovedV1,
    producer: 'billing',
    description: 'A claim was approved, with its approvedAmount (at most the amount claimed).',
  },
  'billing.claim-denied.v1': {
    schema: BillingClaimDeniedV1,
    producer: 'billing',
    description:
      'A claim was denied, with its denialReason; the invoice stays owed (a denial is not a write-off).',
  },
  'billing.claim-paid.v1': {
    schema: BillingClaimPaidV1,
    producer: 'billing',
    description:
      "An approved claim was paid: the insurer's payment was posted to the invoice (its billing.payment-recorded.v1 goes out too); carries the claim, the payment and the invoice after it.",
  },
  'auth.login-succeeded.v1': {
    schema: AuthLoginSucceededV1,
    producer: 'auth',
    description: 'A user logged in.',
  },
  'auth.login-failed.v2': {
    schema: AuthLoginFailedV2,
    producer: 'auth',
    description:
      'A login was refused (unknown user and wrong password look the same); says whether the name matched a user, never the name typed.',
  },
  'auth.throttled.v1': {
    schema: AuthThrottledV1,
    producer: 'auth',
    description: 'Logins for a username or from an address were throttled after repeated failures.',
  },
  'auth.user-created.v1': {
    schema: AuthUserCreatedV1,
    producer: 'auth',
    description: 'An administrator created a user.',
  },
  'auth.user-updated.v1': {
    schema: AuthUserUpdatedV1,
    producer: 'auth',
    description: "A user's roles, status or profile changed.",
  },
  'auth.password-reset.v1': {
    schema: AuthPasswordResetV1,
    producer: 'auth',
    description: "A user's password was reset.",
  },
  'auth.session-revoked.v1': {
    schema: AuthSessionRevokedV1,
    producer: 'auth',
    description: 'A session (refresh-token family and its access token) was revoked.',
  },
  'analytics.dashboard-updated.v1': {
    schema: AnalyticsDashboardUpdatedV1,
    producer: 'analytics',
    description:
      "The facility's KPIs of today changed: coalesced, at most one per ANALYTICS_DASHBOARD_EVENT_MS; counts, rates and amounts only (no PHI).",
  },
  'analytics.report-generated.v1': {
    schema: AnalyticsReportGeneratedV1,
    producer: 'analytics',
    description: 'A report was generated: its type, range, format, row count and who asked for it.',
  },
  'access.recorded.v1': {
    schema: AccessRecordedV1,
    producer: 'every service (the kit)',
    description:
      'A batch of access records: who read or changed which patients, and the requests the gateway refused. Emitted off the request path, not through the outbox.',
  },
} as const satisfies Record<string, { schema: TSchema; producer: string; description: string }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = Static<(typeof EVENT_TYPES)[T]['schema']>;

/** CloudEvents 1.0 JSON envelope plus W3C `traceparent` (DESIGN.md §5). */
export const EventEnvelope = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Uuid,
    type: Type.String({ pattern: '^[a-z]+(\\.[a-z-]+)+\\.v[0-9]+$' }),
    source: Type.String({ minLength: 1 }),
    time: Timestamp,
    subject: Type.String({ minLength: 1 }),
    dataschema: Type.String({ minLength: 1 }),
    datacontenttype: Type.Literal('application/json'),
    traceparent: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' }),
    ),
    /**
     * Extension attribute: who caused the change, by id only (a user id, or `svc:<name>` when a
     * service acted on its own: a consumer, a job). The audit trail records it.
     */
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    data: Type.Unknown(),
  },
  { additionalProperties: false, $id: 'EventEnvelope' },
);
export type EventEnvelope = Static<typeof EventEnvelope>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_TYPES, type);
}

export function dataSchemaUri(type: EventType): string {
  return `urn:hms:event:${type}`;
}

const envelopeCheck = TypeCompiler.Compile(EventEnvelope);
const dataChecks = new Map<string, TypeCheck<TSchema>>();
function dataCheck(type: EventType): TypeCheck<TSchema> {
  let check = dataChecks.get(type);
  if (!check) {
    check = TypeCompiler.Compile(EVENT_TYPES[type].schema);
    dataChecks.set(type, check);
  }
  return check;
}

export class EventSchemaError extends Error {
  constructor(
    readonly eventType: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(
      `event ${eventType} does not match its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
    this.name = 'EventSchemaError';
  }
}

/** Checks an envelope and its data against the registry; throws EventSchemaError when invalid. */
export function assertValidEvent(envelope: unknown): asserts envelope is EventEnvelope {
  if (!envelopeCheck.Check(envelope)) {
    const problems = [...envelopeCheck.Errors(envelope)].map((e) => ({
      path: e.path || '/',
      message: e.message,
    }));
    const type =
      typeof envelope === 'object' && envelope && 'type' in envelope ? String(envelope.type) : 'unknown';
    throw new EventSchemaError(type, problems);
  }
  if (!isEventType(envelope.type))
    throw new EventSchemaError(envelope.type, [{ path: '/type', message: 'unknown event type' }]);
  const check = dataCheck(envelope.type);
  if (!check.Check(envelope.data)) {
    const problems = [...check.Errors(envelope.data)].map((e) => ({
      path: `/data${e.path}`,
      message: e.message,
    }));
    throw new EventSchemaError(envelope.type, problems);
  }
}
