import type { EventEnvelope, EventType, Patient, Staff } from '@hms/contracts';
import type { EventConsumer, LocalCopy, ServiceDeps, Tx } from '@hms/platform';

/**
 * What Pharmacy keeps of other services' data (DESIGN.md §5), so that prescribing makes no HTTP
 * call when the copies are warm: of a patient, their status and allergy substances (what the
 * allergy check reads: no reaction, no other PHI); of a staff member, their role and status (the
 * prescriber rule). Both are kit local copies fed by the owners' events and read through to the
 * owner on a miss; when the owner cannot answer, 503 with Retry-After: the allergy check never
 * passes because the copy was empty.
 */
export interface PatientEntry {
  active: boolean;
  allergies: { substance: string }[];
}
export interface StaffEntry {
  active: boolean;
  role: string;
}

const isPatient = (b: unknown): b is Patient =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as Patient).version === 'number' &&
  typeof (b as Patient).status === 'string' &&
  Array.isArray((b as Patient).allergies);
const isStaff = (b: unknown): b is Staff =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as Staff).version === 'number' &&
  typeof (b as Staff).active === 'boolean' &&
  typeof (b as Staff).role === 'string';

export const patientEntry = (p: Patient): PatientEntry => ({
  active: p.status === 'active',
  allergies: p.allergies.map((a) => ({ substance: a.substance })),
});
export const staffEntry = (s: Staff): StaffEntry => ({ active: s.active, role: s.role });

export interface Copies {
  patients: LocalCopy<PatientEntry>;
  staff: LocalCopy<StaffEntry>;
}

export function makeCopies(deps: Pick<ServiceDeps, 'localCopy'>): Copies {
  return {
    patients: deps.localCopy<PatientEntry>({
      kind: 'patient-allergies',
      owner: 'patient',
      path: (id) => `/api/v1/patients/${id}`,
      fromOwner: (b) => (isPatient(b) ? { version: b.version, data: patientEntry(b) } : undefined),
    }),
    staff: deps.localCopy<StaffEntry>({
      kind: 'staff',
      owner: 'staff',
      path: (id) => `/api/v1/staff/${id}`,
      fromOwner: (b) => (isStaff(b) ? { version: b.version, data: staffEntry(b) } : undefined),
    }),
  };
}

export const COPIED_EVENTS = [
  'patient.registered.v1',
  'patient.updated.v1',
  'staff.onboarded.v1',
  'staff.updated.v1',
] as const satisfies readonly EventType[];

/** The events Pharmacy consumes: each keeps a copy current (idempotent, the newest version wins). */
export function pharmacyConsumers(copies: Copies): EventConsumer[] {
  return [{ types: COPIED_EVENTS, handle: (tx, envelope) => apply(copies, tx, envelope) }];
}

async function apply(copies: Copies, tx: Tx, e: EventEnvelope): Promise<void> {
  const data = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'patient.registered.v1':
    case 'patient.updated.v1': {
      const p = data.patient as Patient;
      await copies.patients.apply(tx, p.id, { version: p.version, data: patientEntry(p) });
      return;
    }
    case 'staff.onboarded.v1':
    case 'staff.updated.v1': {
      const s = data.staff as Staff;
      await copies.staff.apply(tx, s.id, { version: s.version, data: staffEntry(s) });
      return;
    }
  }
}
