import { Type, type Static } from '@sinclair/typebox';
import { DateOnly, Timestamp, Uuid } from './common.js';

/** Shapes of the Patient resource (DOMAIN.md "Patient"), shared by the API and the events. */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Phone = Type.String({
  pattern: '^\\+?[0-9][0-9 ()-]{5,30}$',
  description: 'international format preferred, e.g. +44 20 7946 0958',
});

export const PatientSex = Type.Union(
  [Type.Literal('female'), Type.Literal('male'), Type.Literal('other'), Type.Literal('unknown')],
  { description: 'administrative sex' },
);
export const PatientStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('inactive'),
  Type.Literal('deceased'),
]);

export const Address = Type.Object(
  {
    line1: Text(200),
    line2: Type.Optional(Text(200)),
    city: Text(100),
    region: Type.Optional(Text(100)),
    postalCode: Type.Optional(Text(20)),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
  },
  { additionalProperties: false },
);

export const EmergencyContact = Type.Object(
  { name: Text(200), relation: Text(50), phone: Phone },
  { additionalProperties: false },
);

export const Insurance = Type.Object(
  { payer: Text(200), memberId: Text(64), groupNumber: Type.Optional(Text(64)) },
  { additionalProperties: false },
);

export const Allergy = Type.Object(
  {
    substance: Text(200),
    reaction: Type.Optional(Text(200)),
    severity: Type.Union([Type.Literal('mild'), Type.Literal('moderate'), Type.Literal('severe')]),
  },
  { additionalProperties: false },
);

export const Condition = Type.Object(
  {
    code: Text(64),
    display: Text(200),
    onset: Type.Optional(DateOnly),
    status: Type.Union([Type.Literal('active'), Type.Literal('resolved'), Type.Literal('inactive')]),
  },
  { additionalProperties: false },
);

const writable = {
  givenName: Text(100),
  familyName: Text(100),
  birthDate: DateOnly,
  sex: PatientSex,
  phone: Type.Optional(Phone),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  address: Type.Optional(Address),
  emergencyContact: Type.Optional(EmergencyContact),
  insurance: Type.Optional(Insurance),
  allergies: Type.Optional(Type.Array(Allergy, { maxItems: 100 })),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 200 })),
};

/** Body of POST and PUT: the whole resource as a client may write it. */
export const PatientInput = Type.Object(
  { ...writable, status: Type.Optional(PatientStatus) },
  { additionalProperties: false, $id: 'PatientInput' },
);
export type PatientInput = Static<typeof PatientInput>;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Body of PATCH (RFC 7396 JSON merge patch): fields sent change, `null` clears an optional one. */
export const PatientPatch = Type.Object(
  {
    givenName: Type.Optional(writable.givenName),
    familyName: Type.Optional(writable.familyName),
    birthDate: Type.Optional(DateOnly),
    sex: Type.Optional(PatientSex),
    status: Type.Optional(PatientStatus),
    phone: Type.Optional(nullable(Phone)),
    email: Type.Optional(nullable(Type.String({ format: 'email', maxLength: 254 }))),
    address: Type.Optional(nullable(Address)),
    emergencyContact: Type.Optional(nullable(EmergencyContact)),
    insurance: Type.Optional(nullable(Insurance)),
    allergies: Type.Optional(nullable(Type.Array(Allergy, { maxItems: 100 }))),
    conditions: Type.Optional(nullable(Type.Array(Condition, { maxItems: 200 }))),
  },
  { additionalProperties: false, minProperties: 1, $id: 'PatientPatch' },
);
export type PatientPatch = Static<typeof PatientPatch>;

export const Patient = Type.Object(
  {
    id: Uuid,
    mrn: Type.String({ description: 'medical record number, generated' }),
    ...writable,
    allergies: Type.Array(Allergy),
    conditions: Type.Array(Condition),
    status: PatientStatus,
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Patient' },
);
export type Patient = Static<typeof Patient>;

export const PATIENT_FIELDS = [
  'givenName',
  'familyName',
  'birthDate',
  'sex',
  'phone',
  'email',
  'address',
  'emergencyContact',
  'insurance',
  'allergies',
  'conditions',
  'status',
] as const;
export type PatientField = (typeof PATIENT_FIELDS)[number];

export const PatientRegisteredV1 = Type.Object(
  { patient: Patient },
  { additionalProperties: false, $id: 'patient.registered.v1' },
);
export const PatientUpdatedV1 = Type.Object(
  {
    patient: Patient,
    changedFields: Type.Array(Type.Union(PATIENT_FIELDS.map((f) => Type.Literal(f))), { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'patient.updated.v1' },
);
