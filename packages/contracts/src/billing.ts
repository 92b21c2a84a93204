import { Type, type Static } from '@sinclair/typebox';
import { AppointmentTypeCode } from './appointment.js';
import { DateOnly, Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Billing & Claims service (DOMAIN.md "Billing & Claims", issue #13), shared by the
 * API and the events: invoices with their lines and their ledger (payments and adjustments),
 * insurance claims, the fee schedule and patients' billing accounts.
 *
 * Money is an integer count of the currency's minor units (cents for USD, yen for JPY) with an
 * ISO 4217 code; an amount is never a fraction and never mixes currencies. An invoice's total is
 * the sum of its lines and its balance is total − payments − adjustments, both computed by the
 * service, never taken from a client.
 */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });

/** The most a single amount may be, in minor units (well inside a JavaScript safe integer). */
export const MAX_AMOUNT = 100_000_000_000;

/** An ISO 4217 currency code; the service accepts those its runtime knows (`Intl.supportedValuesOf('currency')`). */
export const CurrencyCode = Type.String({
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 currency code, e.g. USD (one the runtime lists)',
});

const Amount = (description: string, minimum = 0, maximum = MAX_AMOUNT) =>
  Type.Integer({ minimum, maximum, description: `${description} (integer minor units)` });

/** A unit price's ceiling: 100 lines of 10,000 units stay exact in JavaScript numbers. */
const MAX_UNIT_PRICE = 1_000_000_000;

// ---- invoices

export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'void'] as const;
export const InvoiceStatus = Type.Union(
  INVOICE_STATUSES.map((s) => Type.Literal(s)),
  {
    description:
      'draft → issued → paid when its balance reaches 0; draft or issued → void (refused once any payment exists)',
  },
);
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export const InvoiceLineInput = Type.Object(
  {
    code: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
      description: 'what is billed: an appointment type code, a CPT/HCPCS code, a local code',
    }),
    description: Text(200),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
    unitPrice: Amount('price of one unit', 0, MAX_UNIT_PRICE),
  },
  { additionalProperties: false },
);
export type InvoiceLineInput = Static<typeof InvoiceLineInput>;

export const InvoiceLine = Type.Object(
  {
    line: Type.Integer({ minimum: 1, description: 'the line number (adjustments name it)' }),
    ...InvoiceLineInput.properties,
    amount: Type.Integer({ minimum: 0, description: 'quantity × unitPrice' }),
    adjusted: Type.Integer({ minimum: 0, description: 'adjustments made to this line' }),
  },
  { additionalProperties: false },
);
export type InvoiceLine = Static<typeof InvoiceLine>;

const invoiceWritable = {
  lines: Type.Array(InvoiceLineInput, { minItems: 1, maxItems: 100 }),
  notes: Type.Optional(Text(2000)),
};

/** Body of POST /invoices: a draft; its total is the sum of its lines, computed. */
export const InvoiceInput = Type.Object(
  {
    patientId: Uuid,
    appointmentId: Type.Optional(
      Type.String({ format: 'uuid', description: 'the appointment it bills (one invoice per appointment)' }),
    ),
    currency: Type.Optional(
      Type.String({
        pattern: '^[A-Z]{3}$',
        description: 'ISO 4217 code; default BILLING_CURRENCY',
      }),
    ),
    ...invoiceWritable,
  },
  { additionalProperties: false, $id: 'InvoiceInput' },
);
export type InvoiceInput = Static<typeof InvoiceInput>;

/** Body of PUT /invoices/{id}: a draft's lines and notes (what pricing a flagged draft takes). */
export const InvoiceUpdate = Type.Object(invoiceWritable, {
  additionalProperties: false,
  $id: 'InvoiceUpdate',
});
export type InvoiceUpdate = Static<typeof InvoiceUpdate>;

export const PAYMENT_METHODS = ['cash', 'card', 'bank-transfer', 'cheque', 'insurance', 'other'] as const;
export const PaymentMethod = Type.Union(PAYMENT_METHODS.map((m) => Type.Literal(m)));
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** One payment on an invoice's ledger (a desk payment, or an insurer's through a paid claim). */
export const Payment = Type.Object(
  {
    id: Uuid,
    invoiceId: Uuid,
    amount: Amount('amount received', 1),
    currency: CurrencyCode,
    method: PaymentMethod,
    reference: Type.Optional(
      Type.String({
        description: "the payer's reference (card slip, transfer id); a claim's id for insurance",
      }),
    ),
    claimId: Type.Optional(
      Type.String({ format: 'uuid', description: 'the claim an insurance payment pays' }),
    ),
    recordedBy: Type.String({ description: 'user id, or svc:<name>' }),
    recordedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type Payment = Static<typeof Payment>;

/** Body of POST /invoices/{id}/payments: part or all of the balance, never more. */
export const PaymentInput = Type.Object(
  {
    amount: Amount('amount received', 1),
    currency: CurrencyCode,
    method: Type.Union(
      PAYMENT_METHODS.filter((m) => m !== 'insurance').map((m) => Type.Literal(m)),
      { description: "how it was paid; an insurer's payment is posted by paying its claim" },
    ),
    reference: Type.Optional(Text(100)),
  },
  { additionalProperties: false, $id: 'PaymentInput' },
);
export type PaymentInput = Static<typeof PaymentInput>;

export const INVOICE_ADJUSTMENT_REASONS = [
  'contractual',
  'write-off',
  'courtesy',
  'cancellation',
  'correction',
] as const;
export const InvoiceAdjustmentReason = Type.Union(
  INVOICE_ADJUSTMENT_REASONS.map((r) => Type.Literal(r)),
  {
    description:
      "contractual: the payer's contracted rate; write-off: uncollectable; courtesy: waived; cancellation: the appointment was cancelled; correction: a billing error",
  },
);
export type InvoiceAdjustmentReason = (typeof INVOICE_ADJUSTMENT_REASONS)[number];

/** One adjustment on an invoice's ledger: reduces what is owed, with its reason, on one line or the whole. */
export const InvoiceAdjustment = Type.Object(
  {
    id: Uuid,
    invoiceId: Uuid,
    line: Type.Optional(
      Type.Integer({ minimum: 1, description: 'the line it adjusts; absent: the whole invoice' }),
    ),
    amount: Amount('amount taken off', 1),
    currency: CurrencyCode,
    reason: InvoiceAdjustmentReason,
    note: Type.Optional(Type.String()),
    recordedBy: Type.String(),
    recordedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type InvoiceAdjustment = Static<typeof InvoiceAdjustment>;

/** Body of POST /invoices/{id}/adjustments. */
export const InvoiceAdjustmentInput = Type.Object(
  {
    amount: Amount('amount taken off', 1),
    currency: CurrencyCode,
    reason: InvoiceAdjustmentReason,
    line: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'the line it adjusts; absent: the whole invoice',
      }),
    ),
    note: Type.Optional(Text(500)),
  },
  { additionalProperties: false, $id: 'InvoiceAdjustmentInput' },
);
export type InvoiceAdjustmentInput = Static<typeof InvoiceAdjustmentInput>;

/** Body of POST /invoices/{id}/void. */
export const VoidInput = Type.Object(
  { reason: Text(500) },
  { additionalProperties: false, $id: 'VoidInput' },
);
export type VoidInput = Static<typeof VoidInput>;

export const Invoice = Type.Object(
  {
    id: Uuid,
    number: Type.String({
      description: 'human-readable, unique: INV-<year>-<counter>, e.g. INV-2026-000042',
    }),
    patientId: Uuid,
    appointmentId: Type.Optional(Uuid),
    currency: CurrencyCode,
    status: InvoiceStatus,
    lines: Type.Array(InvoiceLine),
    total: Type.Integer({ minimum: 0, description: 'sum of the lines (integer minor units)' }),
    paid: Type.Integer({ minimum: 0, description: 'sum of the payments' }),
    adjusted: Type.Integer({ minimum: 0, description: 'sum of the adjustments' }),
    balance: Type.Integer({ minimum: 0, description: 'total − paid − adjusted: what is still owed' }),
    needsPricing: Type.Boolean({
      description:
        'drafted for an appointment type the fee schedule has no price for: to be priced (PUT) before it is issued',
    }),
    refundDue: Type.Integer({
      minimum: 0,
      description: 'paid for an appointment that was then cancelled: to be refunded to the payer',
    }),
    payments: Type.Array(Payment, { description: 'in the order received' }),
    adjustments: Type.Array(InvoiceAdjustment, { description: 'in the order recorded' }),
    notes: Type.Optional(Type.String()),
    issuedAt: Type.Optional(Timestamp),
    dueAt: Type.Optional(DateOnly),
    voidedAt: Type.Optional(Timestamp),
    voidReason: Type.Optional(Type.String()),
    createdBy: Type.String({
      description: 'user id, or svc:billing for an invoice drafted from an appointment',
    }),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Invoice' },
);
export type Invoice = Static<typeof Invoice>;

/** What POST /invoices/{id}/payments answers, and billing.payment-recorded.v1 carries. */
export const PaymentRecorded = Type.Object(
  { payment: Payment, invoice: Invoice },
  { additionalProperties: false },
);
export type PaymentRecorded = Static<typeof PaymentRecorded>;

// ---- claims

export const CLAIM_STATUSES = ['draft', 'submitted', 'approved', 'denied', 'paid'] as const;
export const ClaimStatus = Type.Union(
  CLAIM_STATUSES.map((s) => Type.Literal(s)),
  { description: 'draft → submitted → approved (≤ claimed) | denied; approved → paid' },
);
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const CLAIM_ACTIONS = ['created', 'submitted', 'approved', 'denied', 'paid'] as const;

export const ClaimHistoryEntry = Type.Object(
  {
    at: Timestamp,
    action: Type.Union(CLAIM_ACTIONS.map((a) => Type.Literal(a))),
    by: Type.String({ description: 'user id, or svc:<name>' }),
    amount: Type.Optional(Type.Integer({ description: 'claimed, approved or paid amount of the step' })),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ClaimHistoryEntry = Static<typeof ClaimHistoryEntry>;

/** Body of POST /claims: a draft claim on an issued invoice. */
export const ClaimInput = Type.Object(
  {
    invoiceId: Uuid,
    amount: Amount('amount claimed from the insurer', 1),
    currency: CurrencyCode,
    payer: Type.Optional(Text(200)),
    memberId: Type.Optional(Text(64)),
    groupNumber: Type.Optional(Text(64)),
    resubmissionOf: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'the denied claim this one resubmits (one resubmission each)',
      }),
    ),
  },
  {
    additionalProperties: false,
    $id: 'ClaimInput',
    description: "payer and memberId default to the patient's insurance (their billing account)",
  },
);
export type ClaimInput = Static<typeof ClaimInput>;

export const Claim = Type.Object(
  {
    id: Uuid,
    invoiceId: Uuid,
    patientId: Uuid,
    payer: Type.String(),
    memberId: Type.String(),
    groupNumber: Type.Optional(Type.String()),
    amount: Type.Integer({ minimum: 1, description: 'claimed (integer minor units)' }),
    currency: CurrencyCode,
    approvedAmount: Type.Optional(
      Type.Integer({ minimum: 1, description: 'what the insurer approved, ≤ amount' }),
    ),
    paidAmount: Type.Optional(
      Type.Integer({ minimum: 1, description: 'posted to the invoice as its payment' }),
    ),
    paymentId: Type.Optional(
      Type.String({ format: 'uuid', description: 'the payment posted to the invoice' }),
    ),
    status: ClaimStatus,
    denialReason: Type.Optional(Type.String()),
    denialCode: Type.Optional(Type.String()),
    resubmissionOf: Type.Optional(Uuid),
    resubmittedAs: Type.Optional(
      Type.String({ format: 'uuid', description: 'the claim that resubmitted this denied one' }),
    ),
    history: Type.Array(ClaimHistoryEntry),
    createdBy: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Claim' },
);
export type Claim = Static<typeof Claim>;

/** Body of POST /claims/{id}/approve. */
export const ClaimApproveInput = Type.Object(
  { approvedAmount: Amount('what the insurer approved, at most the amount claimed', 1) },
  { additionalProperties: false, $id: 'ClaimApproveInput' },
);
export type ClaimApproveInput = Static<typeof ClaimApproveInput>;

/** Body of POST /claims/{id}/deny: a denial always says why. */
export const ClaimDenyInput = Type.Object(
  {
    reason: Text(500),
    code: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9-]{1,16}$', description: "the insurer's denial code, e.g. CO-50" }),
    ),
  },
  { additionalProperties: false, $id: 'ClaimDenyInput' },
);
export type ClaimDenyInput = Static<typeof ClaimDenyInput>;

/** What POST /claims/{id}/pay answers, and billing.claim-paid.v1 carries. */
export const ClaimPaid = Type.Object(
  { claim: Claim, payment: Payment, invoice: Invoice },
  { additionalProperties: false },
);
export type ClaimPaid = Static<typeof ClaimPaid>;

// ---- fee schedule and accounts

export const FeeScheduleInput = Type.Object(
  {
    description: Text(200),
    unitPrice: Amount('price of one appointment of the type', 0, MAX_UNIT_PRICE),
    currency: Type.Optional(
      Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; default BILLING_CURRENCY' }),
    ),
  },
  { additionalProperties: false, $id: 'FeeScheduleInput' },
);
export type FeeScheduleInput = Static<typeof FeeScheduleInput>;

/** The price of an appointment type: what an invoice drafted for such an appointment bills. */
export const FeeScheduleEntry = Type.Object(
  {
    code: AppointmentTypeCode,
    description: Type.String(),
    unitPrice: Type.Integer({ minimum: 0 }),
    currency: CurrencyCode,
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'FeeScheduleEntry' },
);
export type FeeScheduleEntry = Static<typeof FeeScheduleEntry>;

export const MoneyAmount = Type.Object(
  { currency: CurrencyCode, amount: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type MoneyAmount = Static<typeof MoneyAmount>;

/** A patient's billing account: their insurance as Patient last said, open invoices, what they owe. */
export const BillingAccount = Type.Object(
  {
    patientId: Uuid,
    payer: Type.Optional(Type.String()),
    memberId: Type.Optional(Type.String()),
    groupNumber: Type.Optional(Type.String()),
    patientStatus: Type.String({ description: "the patient's status at the Patient service" }),
    patientVersion: Type.Integer({ minimum: 1, description: "the patient record's version it reflects" }),
    openInvoices: Type.Array(Invoice, { description: 'issued invoices with a balance, oldest first' }),
    balances: Type.Array(MoneyAmount, { description: 'what is owed on them, per currency' }),
    refundsDue: Type.Array(MoneyAmount, {
      description: 'what is to be refunded to the patient, per currency',
    }),
  },
  { additionalProperties: false, $id: 'BillingAccount' },
);
export type BillingAccount = Static<typeof BillingAccount>;

// ---- events: each carries its aggregate whole after the change, with its version

/** An invoice was issued: it is owed from now on. */
export const BillingInvoiceGeneratedV1 = Type.Object(
  { invoice: Invoice },
  { additionalProperties: false, $id: 'billing.invoice-generated.v1' },
);
/** A payment was recorded on an invoice (at the desk, or an insurer's through a paid claim). */
export const BillingPaymentRecordedV1 = Type.Object(
  { payment: Payment, invoice: Invoice },
  { additionalProperties: false, $id: 'billing.payment-recorded.v1' },
);
export const BillingClaimSubmittedV1 = Type.Object(
  { claim: Claim },
  { additionalProperties: false, $id: 'billing.claim-submitted.v1' },
);
export const BillingClaimApprovedV1 = Type.Object(
  { claim: Claim },
  { additionalProperties: false, $id: 'billing.claim-approved.v1' },
);
export const BillingClaimDeniedV1 = Type.Object(
  { claim: Claim },
  { additionalProperties: false, $id: 'billing.claim-denied.v1' },
);
/** An approved claim was paid: its payment was posted to the invoice (the invoice after it). */
export const BillingClaimPaidV1 = Type.Object(
  { claim: Claim, payment: Payment, invoice: Invoice },
  { additionalProperties: false, $id: 'billing.claim-paid.v1' },
);
