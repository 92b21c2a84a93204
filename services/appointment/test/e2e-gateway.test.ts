import type { Appointment, AppointmentSeries, Assignment, SlotList, Staff } from '@hms/contracts';
import { gatewayService } from '@hms/gateway';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import { qs, startBehindGateway, type Page } from '@hms/testkit';
import { randomBytes } from 'node:crypto';
import { expectingStatus, useStarted } from '@hms/testkit/vitest';
import { describe, expect, test } from 'vitest';
import { appointmentService } from '../src/service.js';
import { patientInput, staffInput } from './helpers.js';

/**
 * Issue #11's end-to-end flow through the gateway, with ES256 tokens verified against the JWKS
 * by the gateway and by each service: Staff, Patient and Appointment on one bus (RabbitMQ under
 * CI), Redis-backed rate limits. Staff's assignments follow every step from Appointment's events.
 */
async function startPlatform() {
  const p = await startBehindGateway(gatewayService, [staffService, patientService, appointmentService]);
  return {
    ...p,
    tokens: {
      manager: await p.keys.mint({ roles: ['manager'] }),
      desk: await p.keys.mint({ roles: ['receptionist'] }),
      pharmacist: await p.keys.mint({ roles: ['pharmacist'] }),
    },
  };
}

const platform = useStarted(startPlatform, 120_000);
/** A request through the gateway; fails the test unless it answers `status`. */
const call = expectingStatus(() => platform().gateway);

describe('scheduling end to end, through the gateway', () => {
  test('create staff, register a patient, find a slot, book, reschedule, book a weekly series, cancel one then the rest; assignments follow', async () => {
    const { tokens } = platform();
    // Mondays 09:00–17:00 and Tuesdays 09:00–12:00 in London (GMT until 2027-03-28)
    const member = await call<Staff>('POST', '/api/v1/staff', tokens.manager, 201, staffInput());
    const patient = await call<{ id: string }>(
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      tokens.desk,
      201,
      patientInput(),
    );
    const type = await call<{ code: string }>('POST', '/api/v1/appointments/types', tokens.desk, 201, {
      code: `e2e-${randomBytes(3).toString('hex')}`,
      name: 'Follow-up',
      durationMin: 30,
      bufferAfterMin: 15,
    });

    // the first slots of Monday 2027-03-01: 09:00, 09:15, … (30 minutes each)
    const found = await call<SlotList>(
      'GET',
      `/api/v1/appointments/slots${qs({ type: type.code, staffId: member.id, from: '2027-03-01T00:00:00Z', to: '2027-03-02T00:00:00Z' })}`,
      tokens.desk,
      200,
    );
    expect(found.slots.slice(0, 3)).toEqual([
      { staffId: member.id, start: '2027-03-01T09:00:00.000Z', end: '2027-03-01T09:30:00.000Z' },
      { staffId: member.id, start: '2027-03-01T09:15:00.000Z', end: '2027-03-01T09:45:00.000Z' },
      { staffId: member.id, start: '2027-03-01T09:30:00.000Z', end: '2027-03-01T10:00:00.000Z' },
    ]);
    // the last one ends at 17:00
    expect(found.slots.at(-1)).toEqual({
      staffId: member.id,
      start: '2027-03-01T16:30:00.000Z',
      end: '2027-03-01T17:00:00.000Z',
    });

    const first = found.slots[0] as { start: string };
    const booked = await call<Appointment>('POST', '/api/v1/appointments', tokens.desk, 201, {
      patientId: patient.id,
      staffId: member.id,
      type: type.code,
      start: first.start,
    });
    await assignmentsAre(member.id, [
      { appointmentId: booked.id, start: '2027-03-01T09:00:00.000Z', status: 'scheduled' },
    ]);
    // the slot is gone from the finder, and with it 09:15 and 09:30 (the 15-minute buffer after)
    const after = await call<SlotList>(
      'GET',
      `/api/v1/appointments/slots${qs({ type: type.code, staffId: member.id, from: '2027-03-01T09:00:00Z', to: '2027-03-01T10:00:00Z' })}`,
      tokens.desk,
      200,
    );
    expect(after.slots.map((s) => s.start)).toEqual(['2027-03-01T09:45:00.000Z']);

    const moved = await call<Appointment>(
      'POST',
      `/api/v1/appointments/${booked.id}/reschedule`,
      tokens.desk,
      200,
      {
        start: '2027-03-01T14:00:00Z',
      },
    );
    expect(moved).toMatchObject({
      id: booked.id,
      start: '2027-03-01T14:00:00.000Z',
      end: '2027-03-01T14:30:00.000Z',
      version: 2,
    });
    expect(moved.history.at(-1)).toMatchObject({
      action: 'rescheduled',
      previousStart: '2027-03-01T09:00:00.000Z',
      previousEnd: '2027-03-01T09:30:00.000Z',
    });
    await assignmentsAre(member.id, [
      { appointmentId: booked.id, start: '2027-03-01T14:00:00.000Z', status: 'scheduled' },
    ]);

    // a weekly series of three on Tuesdays 10:00 London: 03-02, 03-09, 03-16 (all GMT: 10:00Z)
    const series = await call<AppointmentSeries>('POST', '/api/v1/appointments', tokens.desk, 201, {
      patientId: patient.id,
      staffId: member.id,
      type: type.code,
      start: '2027-03-02T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 3 },
    });
    expect(series.appointments.map((a) => a.start)).toEqual([
      '2027-03-02T10:00:00.000Z',
      '2027-03-09T10:00:00.000Z',
      '2027-03-16T10:00:00.000Z',
    ]);
    const [s1, s2, s3] = series.appointments as [Appointment, Appointment, Appointment];
    await assignmentsAre(member.id, [
      { appointmentId: booked.id, start: '2027-03-01T14:00:00.000Z', status: 'scheduled' },
      { appointmentId: s1.id, start: '2027-03-02T10:00:00.000Z', status: 'scheduled' },
      { appointmentId: s2.id, start: '2027-03-09T10:00:00.000Z', status: 'scheduled' },
      { appointmentId: s3.id, start: '2027-03-16T10:00:00.000Z', status: 'scheduled' },
    ]);

    // one occurrence, then the rest
    const one = await call<{ cancelled: Appointment[] }>(
      'POST',
      `/api/v1/appointments/${s1.id}/cancel`,
      tokens.desk,
      200,
      {
        reason: 'patient travelling',
      },
    );
    expect(one.cancelled.map((a) => a.id)).toEqual([s1.id]);
    const rest = await call<{ cancelled: Appointment[] }>(
      'POST',
      `/api/v1/appointments/${s2.id}/cancel`,
      tokens.desk,
      200,
      {
        reason: 'treatment ended',
        scope: 'following',
      },
    );
    expect(rest.cancelled.map((a) => a.id)).toEqual([s2.id, s3.id]);
    await assignmentsAre(member.id, [
      { appointmentId: booked.id, start: '2027-03-01T14:00:00.000Z', status: 'scheduled' },
      { appointmentId: s1.id, start: '2027-03-02T10:00:00.000Z', status: 'cancelled' },
      { appointmentId: s2.id, start: '2027-03-09T10:00:00.000Z', status: 'cancelled' },
      { appointmentId: s3.id, start: '2027-03-16T10:00:00.000Z', status: 'cancelled' },
    ]);

    // the staff member cannot leave while the Monday appointment is to come
    const refused = await platform().gateway.request<{ code: string; appointmentIds: string[] }>(
      'DELETE',
      `/api/v1/staff/${member.id}`,
      {
        token: tokens.manager,
      },
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'staff_has_appointments', appointmentIds: [booked.id] });

    // the gateway refuses what the role table does not allow, and a token whose signature was tampered with
    const forbidden = await platform().gateway.request<{ code: string }>('POST', '/api/v1/appointments', {
      token: tokens.pharmacist,
      body: { patientId: patient.id, staffId: member.id, type: type.code, start: '2027-03-01T15:00:00Z' },
    });
    expect(forbidden.status).toBe(403);
    const [head, payload, signature] = tokens.desk.split('.') as [string, string, string];
    // the first character of the signature carries its top six bits: changing it changes the signature
    const tampered = `${head}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const unsigned = await platform().gateway.request('GET', `/api/v1/appointments/${booked.id}`, {
      token: tampered,
    });
    expect(unsigned.status).toBe(401);
  });
});

/** Polls Staff's assignments (through the gateway) until they are these, in start order. */
async function assignmentsAre(
  staffId: string,
  expected: { appointmentId: string; start: string; status: string }[],
): Promise<void> {
  const { tokens } = platform();
  await expect
    .poll(
      async () => {
        const page = await call<Page<Assignment>>(
          'GET',
          `/api/v1/staff/${staffId}/assignments${qs({ from: '2027-02-25T00:00:00Z', to: '2027-03-25T00:00:00Z' })}`,
          tokens.manager,
          200,
        );
        return page.items.map((a) => ({ appointmentId: a.appointmentId, start: a.start, status: a.status }));
      },
      { timeout: 15_000, interval: 100 },
    )
    .toEqual(expected);
}
