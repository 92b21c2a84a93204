import type { Appointment, AppointmentTypeInput, PatientInput, Staff, StaffInput } from '@hms/contracts';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import type { Clock } from '@hms/platform';
import { createTestBus, createTestKeys, startService, type RunningService } from '@hms/testkit';
import { postCreated, useStarted } from '@hms/testkit/vitest';
import { expect } from 'vitest';
import { appointmentService } from '../src/service.js';

export const APPOINTMENTS = '/api/v1/appointments';
export const TYPES = '/api/v1/appointments/types';

/** Staff, Patient and Appointment on one bus with one set of keys: Appointment reads through to the others. */
export interface World {
  staff: RunningService;
  patient: RunningService;
  appointment: RunningService;
  tokens: {
    /** receptionist: appointments:read|write, patients:read|write, staff:read */
    desk: string;
    /** manager: staff:read|write */
    manager: string;
    /** auditor: no appointment permission */
    outsider: string;
  };
  close(): Promise<void>;
}

export async function startWorld(
  opts: {
    appointmentEnv?: NodeJS.ProcessEnv;
    staffEnv?: NodeJS.ProcessEnv;
    /** The clock Appointment's use cases and jobs read (default: the system clock). */
    appointmentClock?: Clock;
  } = {},
): Promise<World> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const staff = await startService(staffService, { keys, bus: bus.bus, env: opts.staffEnv });
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const appointment = await startService(appointmentService, {
    keys,
    bus: bus.bus,
    env: { STAFF_URL: staff.url, PATIENT_URL: patient.url, ...opts.appointmentEnv },
    ...(opts.appointmentClock ? { clock: opts.appointmentClock } : {}),
  });
  return {
    staff,
    patient,
    appointment,
    tokens: {
      desk: await keys.mint({ roles: ['receptionist'] }),
      manager: await keys.mint({ roles: ['manager'] }),
      outsider: await keys.mint({ roles: ['auditor'] }),
    },
    async close() {
      await appointment.close();
      await patient.close();
      await staff.close();
      await bus.close();
    },
  };
}

/** The world for this test file. */
export const useWorld = (opts: Parameters<typeof startWorld>[0] = {}) =>
  useStarted(() => startWorld(opts), 60_000);

let n = 0;
const unique = () => `${Date.now().toString(36)}${(n += 1)}`;

/** Mondays 09:00–17:00 and Tuesdays 09:00–12:00 in London unless `overrides` says otherwise. */
export function staffInput(overrides: Partial<StaffInput> = {}): StaffInput {
  return {
    givenName: 'Grace',
    familyName: `Hopper${unique()}`,
    role: 'physician',
    department: `Cardiology-${unique()}`,
    specialties: ['cardiology'],
    timezone: 'Europe/London',
    weeklyHours: [
      { day: 'mon', start: '09:00', end: '17:00' },
      { day: 'tue', start: '09:00', end: '12:00' },
    ],
    ...overrides,
  };
}

export function patientInput(overrides: Partial<PatientInput> = {}): PatientInput {
  return {
    givenName: 'Ada',
    familyName: `Lovelace${unique()}`,
    birthDate: '1985-12-10',
    sex: 'female',
    phone: `+44 20 7946 ${String(1000 + (n % 9000))}`,
    email: `ada${unique()}@example.org`,
    ...overrides,
  };
}

export const onboard = (w: World, input: Partial<StaffInput> = {}) =>
  postCreated<Staff>(w.staff, '/api/v1/staff', w.tokens.manager, staffInput(input));

export const register = async (w: World, input: Partial<PatientInput> = {}) => {
  const res = await w.patient.request<{ id: string }>('POST', '/api/v1/patients?confirmDuplicate=true', {
    token: w.tokens.desk,
    body: patientInput(input),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

/** Creates an appointment type with a unique code; 30 minutes, no buffers unless told. */
export async function createType(w: World, input: Partial<AppointmentTypeInput> = {}) {
  const body = { code: `consult-${unique()}`, name: 'Consultation', durationMin: 30, ...input };
  return postCreated<{ code: string; durationMin: number }>(w.appointment, TYPES, w.tokens.desk, body);
}

export const book = (w: World, body: Record<string, unknown>, token = w.tokens.desk) =>
  w.appointment.request<Appointment & Record<string, unknown>>('POST', APPOINTMENTS, { token, body });

/** Books and fails the test unless 201. */
export async function booked(w: World, body: Record<string, unknown>): Promise<Appointment> {
  const res = await book(w, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** What the database holds: a refused request must change none of it. */
export async function counts(svc: RunningService): Promise<{ appointments: number; outbox: number }> {
  const { rows } = await svc.db.query<{ appointments: number; outbox: number }>(
    `SELECT (SELECT count(*) FROM appointments)::int AS appointments, (SELECT count(*) FROM outbox)::int AS outbox`,
  );
  return rows[0] as { appointments: number; outbox: number };
}

/** A clock a test moves by hand: `set(iso)`; `now()` answers the instant last set. */
export function settableClock(iso: string): Clock & { set(iso: string): void } {
  let at = Date.parse(iso);
  return {
    now: () => new Date(at),
    set(next: string) {
      at = Date.parse(next);
    },
  };
}

/** GET /appointments/{id} with the desk token; fails the test unless 200. */
export async function fetched(w: World, id: string): Promise<Appointment> {
  const res = await w.appointment.request<Appointment>('GET', `${APPOINTMENTS}/${id}`, {
    token: w.tokens.desk,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** What the database holds of one appointment: a refused change must leave it as it was. */
export async function storedAppointment(svc: RunningService, id: string): Promise<Record<string, unknown>> {
  const { rows } = await svc.db.query(
    `SELECT status, version, starts_at, ends_at, busy_from, busy_to, reason, location, cancellation_reason, history
       FROM appointments WHERE id = $1`,
    [id],
  );
  expect(rows, `appointment ${id} in the database`).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}
