import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Pharmacy service (DOMAIN.md "Pharmacy", issue #12), shared by the API and the
 * events: the formulary (medications), prescriptions with their items, and the dispense event
 * Inventory consumes. Quantities are whole units of the medication's `unit`.
 */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Terms = (description: string) => Type.Array(Text(200), { maxItems: 50, description });

// ---- formulary

const medicationWritable = {
  code: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
    description: 'the medication code, e.g. an RxNorm CUI (`723`); unique in the formulary',
  }),
  name: Text(200),
  form: Text(64),
  strength: Text(64),
  unit: Text(32),
  ingredients: Type.Array(Text(200), {
    minItems: 1,
    maxItems: 50,
    description: 'active ingredients (the allergy check matches them against allergy substances)',
  }),
  drugClasses: Type.Optional(Terms('drug classes, e.g. `penicillins` (the allergy check matches them too)')),
  inventoryItemId: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'the Inventory item its stock is kept as (dispensing needs it)',
    }),
  ),
  active: Type.Optional(
    Type.Boolean({ default: true, description: 'false: withdrawn from the formulary, not prescribable' }),
  ),
};

/** Body of POST and PUT /medications: the whole medication as a client may write it. */
export const MedicationInput = Type.Object(medicationWritable, {
  additionalProperties: false,
  $id: 'MedicationInput',
});
export type MedicationInput = Static<typeof MedicationInput>;

export const Medication = Type.Object(
  {
    id: Uuid,
    ...medicationWritable,
    drugClasses: Terms('drug classes'),
    active: Type.Boolean(),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Medication' },
);
export type Medication = Static<typeof Medication>;

// ---- prescriptions

export const PrescriptionStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('filled'),
  Type.Literal('completed'),
  Type.Literal('cancelled'),
  Type.Literal('expired'),
]);
export type PrescriptionStatus = Static<typeof PrescriptionStatus>;

const itemWritable = {
  medicationId: Uuid,
  dose: Text(100),
  route: Text(64),
  frequency: Text(100),
  quantity: Type.Integer({ minimum: 1, maximum: 100_000, description: 'units dispensed per fill' }),
  refills: Type.Integer({
    minimum: 0,
    maximum: 12,
    default: 0,
    description: 'fills allowed after the first',
  }),
};

export const PrescriptionItemInput = Type.Object(
  { ...itemWritable, refills: Type.Optional(itemWritable.refills) },
  { additionalProperties: false },
);
export type PrescriptionItemInput = Static<typeof PrescriptionItemInput>;

/** Body of POST /prescriptions. */
export const PrescriptionInput = Type.Object(
  {
    patientId: Uuid,
    prescriberId: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          'the prescribing physician (staff id); a caller linked to a staff record prescribes as themselves and may leave it out',
      }),
    ),
    items: Type.Array(PrescriptionItemInput, { minItems: 1, maxItems: 20 }),
    notes: Type.Optional(Text(2000)),
    validUntil: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'last instant it may be filled; a year from now by default',
      }),
    ),
    overrideReason: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'why it is prescribed despite a matching allergy: kept and published with it',
      }),
    ),
  },
  { additionalProperties: false, $id: 'PrescriptionInput' },
);
export type PrescriptionInput = Static<typeof PrescriptionInput>;

export const PrescriptionItem = Type.Object(
  {
    ...itemWritable,
    refillsRemaining: Type.Integer({ minimum: 0, description: 'fills left after the next one' }),
    dispensed: Type.Integer({ minimum: 0, description: 'units dispensed so far (completed fills)' }),
    pending: Type.Integer({ minimum: 0, description: 'units of fills under way' }),
  },
  { additionalProperties: false },
);
export type PrescriptionItem = Static<typeof PrescriptionItem>;

/** An allergy of the patient a prescribed medication matched, overridden by `overrideReason`. */
export const AllergyAlert = Type.Object(
  {
    substance: Type.String({ description: "the allergy substance as the patient's record has it" }),
    medicationId: Uuid,
    matched: Type.Union([Type.Literal('ingredient'), Type.Literal('drugClass')]),
    term: Type.String({ description: 'the ingredient or drug class that matched it' }),
  },
  { additionalProperties: false },
);
export type AllergyAlert = Static<typeof AllergyAlert>;

export const FillState = Type.Union(
  [Type.Literal('pending'), Type.Literal('completed'), Type.Literal('rejected')],
  {
    description:
      'pending: stock is being reserved and confirmed at Inventory; completed: dispensed; rejected: with its reason, every step compensated',
  },
);
export type FillState = Static<typeof FillState>;

/** What a fill dispenses of one medication: the units, and once reserved the Inventory lots they come from. */
export const FillLine = Type.Object(
  {
    medicationId: Uuid,
    itemId: Type.String({ format: 'uuid', description: 'the Inventory item the units come from' }),
    quantity: Type.Integer({ minimum: 1 }),
    dispenseId: Type.String({ format: 'uuid', description: 'the id its medication.dispensed.v1 carries' }),
    reservationId: Type.Optional(Uuid),
    lots: Type.Array(
      Type.Object(
        { lotNumber: Type.String(), quantity: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      { description: 'the lots reserved, earliest expiry first (empty until reserved)' },
    ),
  },
  { additionalProperties: false },
);
export type FillLine = Static<typeof FillLine>;

/** One run of the dispensing saga: a prescription's fill, or a ward dispense without one. */
export const PrescriptionFill = Type.Object(
  {
    id: Uuid,
    state: FillState,
    at: Timestamp,
    by: Type.String({ description: 'who asked for it (user id or svc:<name>)' }),
    quantities: Type.Array(FillLine),
    completedAt: Type.Optional(Timestamp),
    rejectedAt: Type.Optional(Timestamp),
    reason: Type.Optional(Type.String({ description: 'why it was rejected' })),
  },
  { additionalProperties: false },
);
export type PrescriptionFill = Static<typeof PrescriptionFill>;

export const Prescription = Type.Object(
  {
    id: Uuid,
    patientId: Uuid,
    prescriberId: Uuid,
    items: Type.Array(PrescriptionItem),
    notes: Type.Optional(Type.String()),
    status: PrescriptionStatus,
    validUntil: Timestamp,
    overrideReason: Type.Optional(Type.String()),
    allergyAlerts: Type.Array(AllergyAlert, {
      description: 'allergies matched and overridden when prescribed',
    }),
    fills: Type.Array(PrescriptionFill),
    cancellationReason: Type.Optional(Type.String()),
    cancelledAt: Type.Optional(Timestamp),
    expiredAt: Type.Optional(Timestamp),
    createdBy: Type.String({ description: 'the user (or service) that wrote it' }),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Prescription' },
);
export type Prescription = Static<typeof Prescription>;

/** Body of POST /prescriptions/{id}/cancel. */
export const PrescriptionCancelInput = Type.Object(
  { reason: Text(500) },
  { additionalProperties: false, $id: 'PrescriptionCancelInput' },
);
export type PrescriptionCancelInput = Static<typeof PrescriptionCancelInput>;

/** A ward dispense (POST /medications/{id}/dispense): stock handed out without a prescription. */
export const DispenseInput = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
    patientId: Type.Optional(Uuid),
    reason: Text(500),
  },
  { additionalProperties: false, $id: 'DispenseInput' },
);
export type DispenseInput = Static<typeof DispenseInput>;

/** A ward dispense's saga, as answered: the fill and what it was for. */
export const WardDispense = Type.Object(
  {
    ...PrescriptionFill.properties,
    medicationId: Uuid,
    patientId: Type.Optional(Uuid),
    note: Type.String({ description: 'the reason given for the dispense' }),
  },
  { additionalProperties: false },
);
export type WardDispense = Static<typeof WardDispense>;

/** One entry of a medication's dispense history (GET /medications/{id}/dispenses). */
export const DispenseRecord = Type.Object(
  {
    dispenseId: Uuid,
    fillId: Uuid,
    medicationId: Uuid,
    prescriptionId: Type.Optional(Uuid),
    patientId: Type.Optional(Uuid),
    itemId: Uuid,
    reservationId: Uuid,
    quantity: Type.Integer({ minimum: 1 }),
    lots: FillLine.properties.lots,
    by: Type.String(),
    note: Type.Optional(Type.String({ description: "a ward dispense's reason" })),
    dispensedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type DispenseRecord = Static<typeof DispenseRecord>;

// ---- events

/** A prescription was written; carries it whole, with its version, `overrideReason` and `allergyAlerts`. */
export const PrescriptionCreatedV1 = Type.Object(
  { prescription: Prescription },
  { additionalProperties: false, $id: 'prescription.created.v1' },
);
/** A prescription was cancelled (with its reason). */
export const PrescriptionCancelledV1 = Type.Object(
  { prescription: Prescription },
  { additionalProperties: false, $id: 'prescription.cancelled.v1' },
);
/** A prescription passed its `validUntil` unfilled or with refills left: it can no longer be filled. */
export const PrescriptionExpiredV1 = Type.Object(
  { prescription: Prescription },
  { additionalProperties: false, $id: 'prescription.expired.v1' },
);

/** A fill completed: the prescription after it (dispensed units, refills left, status) and the fill with its lots. */
export const PrescriptionFilledV1 = Type.Object(
  { prescription: Prescription, fill: PrescriptionFill },
  { additionalProperties: false, $id: 'prescription.filled.v1' },
);

/**
 * A dispense happened: the stock held by `reservationId` left the shelf. Inventory turns that
 * reservation into a decrement of exactly the lots it holds (`lots` must be those), once.
 */
export const MedicationDispensedV1 = Type.Object(
  {
    dispenseId: Uuid,
    medicationId: Type.Optional(Uuid),
    prescriptionId: Type.Optional(Uuid),
    patientId: Type.Optional(Uuid),
    reservationId: Uuid,
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1 }),
    lots: Type.Array(
      Type.Object(
        { lotNumber: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    dispensedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'medication.dispensed.v1' },
);
