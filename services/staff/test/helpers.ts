import type { Appointment, Staff, StaffInput } from '@hms/contracts';
import { buildEnvelope, uuidv7 } from '@hms/platform';
import { outboxRows, type OutboxRow, type RunningService } from '@hms/testkit';
import { postCreated, useServiceWith, type StartServiceOptions } from '@hms/testkit/vitest';
import { staffService } from '../src/service.js';

export const STAFF = '/api/v1/staff';
export const CLOSURES = '/api/v1/staff/closures';
export const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

let n = 0;
/** A valid onboarding with a unique name and department, so a list test sees only its own staff. */
export function newStaff(overrides: Partial<StaffInput> = {}): StaffInput {
  n += 1;
  return {
    givenName: `Grace${n}`,
    familyName: `Hopper${Date.now().toString(36)}${n}`,
    role: 'physician',
    department: 'Cardiology',
    specialties: ['cardiology', 'echocardiography'],
    licenseNumber: `GMC-${100000 + n}`,
    email: `grace${n}@example.org`,
    phone: '+44 20 7946 0958',
    timezone: 'Europe/London',
    weeklyHours: [
      { day: 'mon', start: '09:00', end: '17:00' },
      { day: 'tue', start: '21:00', end: '03:00' },
    ],
    overrides: [{ date: '2026-12-24', shifts: [] }],
    ...overrides,
  };
}

export interface Tokens {
  /** manager: staff:read and staff:write */
  writer: string;
  /** physician: staff:read only */
  reader: string;
}

export async function tokensFor(svc: RunningService): Promise<Tokens> {
  return {
    writer: await svc.keys.mint({ roles: ['manager'] }),
    reader: await svc.keys.mint({ roles: ['physician'] }),
  };
}

/** Starts the Staff service for this test file and hands it and a token per role to `ready`. */
export function useStaffService(
  ready: (svc: RunningService, tokens: Tokens) => void | Promise<void>,
  opts: StartServiceOptions = {},
): void {
  useServiceWith(staffService, tokensFor, ready, opts);
}

/** Onboards a staff member through the API and fails the test unless it answers 201. */
export const onboard = (svc: RunningService, token: string, input: StaffInput = newStaff()) =>
  postCreated<Staff>(svc, STAFF, token, input);

export const outboxOf = (svc: RunningService, subject: string): Promise<OutboxRow[]> =>
  outboxRows(svc.db, { subject });

/** What the database holds: a refused request must change none of it. */
export async function counts(
  svc: RunningService,
): Promise<{ staff: number; timeOff: number; closures: number; outbox: number }> {
  const { rows } = await svc.db.query<{ staff: number; timeOff: number; closures: number; outbox: number }>(
    `SELECT (SELECT count(*) FROM staff)::int AS staff, (SELECT count(*) FROM time_off)::int AS "timeOff",
            (SELECT count(*) FROM closures)::int AS closures, (SELECT count(*) FROM outbox)::int AS outbox`,
  );
  const row = rows[0];
  if (!row) throw new Error('no counts');
  return row;
}

/** The stored row of a staff member as the database has it (not as the API answers). */
export async function storedRow(
  svc: RunningService,
  id: string,
): Promise<{ version: number; active: boolean; given_name: string; timezone: string } | undefined> {
  const { rows } = await svc.db.query<{
    version: number;
    active: boolean;
    given_name: string;
    timezone: string;
  }>('SELECT version, active, given_name, timezone FROM staff WHERE id = $1', [id]);
  return rows[0];
}

/** The writable part of a staff member as answered by the API, i.e. a PUT body that changes nothing. */
export function putBodyOf(s: Staff): StaffInput {
  const drop = new Set(['id', 'version', 'createdAt', 'updatedAt']);
  return Object.fromEntries(Object.entries(s).filter(([k]) => !drop.has(k))) as StaffInput;
}

// ---- appointment events, as the Appointment service publishes them

/**
 * An appointment as Appointment's events carry it, every required field filled: scheduled,
 * version 1, no buffers, unless `fields` says otherwise. Times are the test's, in UTC.
 */
export function appointmentOf(
  staffId: string,
  fields: Partial<Appointment> & Pick<Appointment, 'start' | 'end'>,
): Appointment {
  return {
    id: uuidv7(),
    patientId: uuidv7(),
    staffId,
    type: 'consult-30',
    bufferBeforeMin: 0,
    bufferAfterMin: 0,
    status: 'scheduled',
    history: [],
    version: 1,
    createdAt: '2027-03-01T08:00:00.000Z',
    updatedAt: '2027-03-01T08:00:00.000Z',
    ...fields,
  };
}

export type AppointmentEvent =
  | { type: 'appointment.created.v1' }
  | {
      type: 'appointment.updated.v1';
      change: 'rescheduled' | 'updated' | 'checked-in' | 'completed' | 'no-show';
      previousStart?: string;
      previousEnd?: string;
    }
  | { type: 'appointment.cancelled.v1'; reason?: string; scope: 'this' | 'following' };

/**
 * The envelope of an appointment event as Appointment's outbox would write it: built and checked
 * against its schema (one that broke it would be dead-lettered, never applied). Published with
 * `feed`, or by hand to send the very same event twice.
 */
export function appointmentEnvelope(appointment: Appointment, event: AppointmentEvent) {
  const { type, ...rest } = event;
  return buildEnvelope('appointment', { type, subject: appointment.id, data: { appointment, ...rest } });
}

/**
 * Waits until the service's inbox has taken each envelope (applied, or skipped as a duplicate);
 * fails after 10 s, e.g. for an event that was dead-lettered. (A loop, not `expect.poll`, so
 * that a `beforeAll` may feed events too.)
 */
export async function consumed(svc: RunningService, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])',
      ['staff', ids],
    );
    const n = rows[0]?.n ?? 0;
    if (n === ids.length) return;
    if (Date.now() > deadline)
      throw new Error(`${ids.length - n} of ${ids.length} events not consumed in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Publishes appointment events on the service's bus and waits until its inbox has taken them. */
export async function feed(svc: RunningService, ...events: [Appointment, AppointmentEvent][]): Promise<void> {
  const envelopes = events.map(([a, e]) => appointmentEnvelope(a, e));
  await svc.bus.publish(envelopes);
  await consumed(
    svc,
    envelopes.map((e) => e.id),
  );
}

export const CREATED = { type: 'appointment.created.v1' } as const;
export const CANCELLED = {
  type: 'appointment.cancelled.v1',
  scope: 'this',
  reason: 'patient asked',
} as const;
