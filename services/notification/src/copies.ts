import type { Appointment, Patient, Staff } from '@hms/contracts';
import type { LocalCopy, ServiceDeps } from '@hms/platform';
import type { Contact } from './domain/decide.js';
import type { AppointmentEntry } from './domain/intake.js';

/**
 * What Notification keeps of other services' data (DESIGN.md §5), fed by their events and read
 * through to the owner on a miss: of a patient, whether they are active and how to reach them;
 * of a staff member, the same and their time zone (their messages' default); of an appointment,
 * who it is for, its status and its start (its reminder follows it). No name, no clinical detail.
 */
export type PatientContact = Contact;
export type StaffContact = Contact & { timezone: string };

export interface Copies {
  patients: LocalCopy<PatientContact>;
  staff: LocalCopy<StaffContact>;
  appointments: LocalCopy<AppointmentEntry>;
}

const has = (b: unknown, field: string, kind: string) =>
  typeof b === 'object' && b !== null && typeof (b as Record<string, unknown>)[field] === kind;

export const patientContact = (p: Patient): PatientContact => ({
  active: p.status === 'active',
  ...(p.email ? { email: p.email } : {}),
  ...(p.phone ? { phone: p.phone } : {}),
});
export const staffContact = (s: Staff): StaffContact => ({
  active: s.active,
  timezone: s.timezone,
  ...(s.email ? { email: s.email } : {}),
  ...(s.phone ? { phone: s.phone } : {}),
});
export const appointmentEntry = (a: Appointment): AppointmentEntry => ({
  patientId: a.patientId,
  staffId: a.staffId,
  status: a.status,
  start: a.start,
  ...(a.location ? { location: a.location } : {}),
});

export function makeCopies(deps: Pick<ServiceDeps, 'localCopy'>): Copies {
  return {
    patients: deps.localCopy<PatientContact>({
      kind: 'patient-contact',
      owner: 'patient',
      path: (id) => `/api/v1/patients/${id}`,
      fromOwner: (b) =>
        has(b, 'version', 'number') && has(b, 'status', 'string')
          ? { version: (b as Patient).version, data: patientContact(b as Patient) }
          : undefined,
    }),
    staff: deps.localCopy<StaffContact>({
      kind: 'staff-contact',
      owner: 'staff',
      path: (id) => `/api/v1/staff/${id}`,
      fromOwner: (b) =>
        has(b, 'version', 'number') && has(b, 'active', 'boolean') && has(b, 'timezone', 'string')
          ? { version: (b as Staff).version, data: staffContact(b as Staff) }
          : undefined,
    }),
    appointments: deps.localCopy<AppointmentEntry>({
      kind: 'appointment',
      owner: 'appointment',
      path: (id) => `/api/v1/appointments/${id}`,
      fromOwner: (b) =>
        has(b, 'version', 'number') && has(b, 'start', 'string') && has(b, 'status', 'string')
          ? { version: (b as Appointment).version, data: appointmentEntry(b as Appointment) }
          : undefined,
    }),
  };
}
