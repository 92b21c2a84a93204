import type { Appointment } from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  APPOINTMENTS,
  book,
  booked,
  counts,
  createType,
  fetched,
  onboard,
  register,
  settableClock,
  storedAppointment,
  useWorld,
} from './helpers.js';

/**
 * An appointment's life after booking: reschedule (same id, the previous slot in its history),
 * check-in → complete, cancel, the details, and the no-show job. Appointment's clock is set by
 * hand (Monday 2027-03-01 12:00Z) so that the no-show job can be walked past an appointment's
 * end; every test but the no-show one books from Monday 2027-03-08 on, which the job never
 * reaches. London is on GMT until 2027-03-28, so local times equal UTC.
 */
const clock = settableClock('2027-03-01T12:00:00Z');
const world = useWorld({
  appointmentClock: clock,
  appointmentEnv: { NO_SHOW_AFTER_MIN: '1', NO_SHOW_INTERVAL_MS: '200' },
});

const desk = () => world().tokens.desk;
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  world().appointment.request<Appointment & Record<string, unknown>>('POST', `${APPOINTMENTS}${path}`, {
    token: desk(),
    headers,
    ...(body === undefined ? {} : { body }),
  });
const reschedule = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  post(`/${id}/reschedule`, body, headers);

let staffId: string;
let type: string;
beforeAll(async () => {
  staffId = (await onboard(world())).id;
  type = (await createType(world())).code; // 30 minutes, no buffers
});

/** A fresh patient booked with the file's staff member at `start`. */
async function bookAt(start: string, staff = staffId): Promise<Appointment> {
  const patientId = (await register(world())).id;
  return booked(world(), { patientId, staffId: staff, type, start });
}

describe('reschedule', () => {
  test('moves the appointment keeping its id, bumps the version and keeps the previous slot in its history', async () => {
    const a = await bookAt('2027-03-08T10:00:00Z');
    const res = await reschedule(a.id, { start: '2027-03-08T11:00:00Z' }, { 'if-match': '"v1"' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({
      id: a.id,
      status: 'scheduled',
      start: '2027-03-08T11:00:00.000Z',
      end: '2027-03-08T11:30:00.000Z',
      version: 2,
    });
    expect(res.body.history).toEqual([
      expect.objectContaining({ action: 'booked' }),
      expect.objectContaining({
        action: 'rescheduled',
        previousStart: '2027-03-08T10:00:00.000Z',
        previousEnd: '2027-03-08T10:30:00.000Z',
      }),
    ]);
    expect(await fetched(world(), a.id)).toEqual(res.body);
    // the old slot is free again: another patient books it
    await bookAt('2027-03-08T10:00:00Z');
  });

  test('an explicit end sets the new duration', async () => {
    const a = await bookAt('2027-03-08T12:00:00Z');
    const res = await reschedule(a.id, { start: '2027-03-08T12:30:00Z', end: '2027-03-08T13:15:00Z' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ start: '2027-03-08T12:30:00.000Z', end: '2027-03-08T13:15:00.000Z' });
  });

  test('into a slot that overlaps another appointment of the staff member: 409 naming it, and nothing changes', async () => {
    const a = await bookAt('2027-03-15T10:00:00Z');
    const other = await bookAt('2027-03-15T14:00:00Z');
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    const res = await reschedule(a.id, { start: '2027-03-15T14:15:00Z' });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      code: 'appointment_conflict',
      conflictingAppointmentId: other.id,
      start: '2027-03-15T14:00:00.000Z',
      end: '2027-03-15T14:30:00.000Z',
    });
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
  });

  test('outside working hours: 409 slot_unavailable naming the rule, and nothing changes', async () => {
    const a = await bookAt('2027-03-15T11:00:00Z');
    const before = await storedAppointment(world().appointment, a.id);
    // 16:45–17:15 runs past the end of Monday's hours (17:00); Wednesday is not a working day
    for (const start of ['2027-03-15T16:45:00Z', '2027-03-17T10:00:00Z']) {
      const res = await reschedule(a.id, { start });
      expectProblem(res, 409, start);
      expect(res.body).toMatchObject({ code: 'slot_unavailable', rule: 'outside-working-hours' });
    }
    expect(await storedAppointment(world().appointment, a.id)).toEqual(before);
  });

  test('with a stale If-Match: 412, and nothing changes', async () => {
    const a = await bookAt('2027-03-15T12:00:00Z');
    expect((await reschedule(a.id, { start: '2027-03-15T12:30:00Z' }, { 'if-match': '"v1"' })).status).toBe(
      200,
    );
    const before = await storedAppointment(world().appointment, a.id);
    expectProblem(await reschedule(a.id, { start: '2027-03-15T13:00:00Z' }, { 'if-match': '"v1"' }), 412);
    expect(await storedAppointment(world().appointment, a.id)).toEqual(before);
    expect(before).toMatchObject({ version: 2, starts_at: new Date('2027-03-15T12:30:00Z') });
  });

  test('an appointment nobody has: 404', async () => {
    const res = await reschedule('0190d6f2-5b1c-7c3e-9a4b-0000000000ff', { start: '2027-03-15T13:00:00Z' });
    expect(expectProblem(res, 404).code).toBe('appointment_not_found');
  });
});

describe('check-in, complete and illegal transitions', () => {
  test('check-in then complete, each bumping the version and adding to the history', async () => {
    const a = await bookAt('2027-03-22T10:00:00Z');
    const checkedIn = await post(`/${a.id}/check-in`);
    expect(checkedIn.status, JSON.stringify(checkedIn.body)).toBe(200);
    expect(checkedIn.body).toMatchObject({ id: a.id, status: 'checked-in', version: 2 });
    expect(checkedIn.headers.get('etag')).toBe('"v2"');
    const completed = await post(`/${a.id}/complete`);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body).toMatchObject({ id: a.id, status: 'completed', version: 3 });
    expect(completed.body.history.map((h) => h.action)).toEqual(['booked', 'checked-in', 'completed']);
    expect(await fetched(world(), a.id)).toEqual(completed.body);
  });

  test('completing a scheduled appointment: 409 illegal_transition, and nothing changes', async () => {
    const a = await bookAt('2027-03-22T11:00:00Z');
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    const res = await post(`/${a.id}/complete`);
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      code: 'illegal_transition',
      appointmentStatus: 'scheduled',
      action: 'complete',
    });
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
  });

  test('checking in a cancelled appointment, or cancelling it again: 409 illegal_transition, and nothing changes', async () => {
    const a = await bookAt('2027-03-22T12:00:00Z');
    expect(
      (await world().appointment.request('DELETE', `${APPOINTMENTS}/${a.id}`, { token: desk() })).status,
    ).toBe(204);
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    const checkIn = await post(`/${a.id}/check-in`);
    expectProblem(checkIn, 409);
    expect(checkIn.body).toMatchObject({
      code: 'illegal_transition',
      appointmentStatus: 'cancelled',
      action: 'check-in',
    });
    const again = await post(`/${a.id}/cancel`, { reason: 'twice' });
    expectProblem(again, 409);
    expect(again.body).toMatchObject({ code: 'illegal_transition', appointmentStatus: 'cancelled' });
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
  });

  test('rescheduling a checked-in appointment: 409 illegal_transition, and nothing changes', async () => {
    const a = await bookAt('2027-03-22T13:00:00Z');
    expect((await post(`/${a.id}/check-in`)).status).toBe(200);
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    const res = await reschedule(a.id, { start: '2027-03-22T15:00:00Z' });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      code: 'illegal_transition',
      appointmentStatus: 'checked-in',
      action: 'reschedule',
    });
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
  });
});

describe('cancel', () => {
  test('DELETE cancels: 204, then the appointment reads as cancelled', async () => {
    const a = await bookAt('2027-03-29T09:00:00Z'); // 10:00 BST
    const res = await world().appointment.request('DELETE', `${APPOINTMENTS}/${a.id}`, { token: desk() });
    expect(res.status).toBe(204);
    const after = await fetched(world(), a.id);
    expect(after).toMatchObject({ id: a.id, status: 'cancelled', version: 2 });
    expect(after.history.map((h) => h.action)).toEqual(['booked', 'cancelled']);
  });

  test('POST /cancel with a reason answers the cancelled appointment carrying the reason', async () => {
    const a = await bookAt('2027-03-29T10:00:00Z');
    const res = await world().appointment.request<{ cancelled: Appointment[] }>(
      'POST',
      `${APPOINTMENTS}/${a.id}/cancel`,
      { token: desk(), body: { reason: 'patient called to cancel' } },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.cancelled).toHaveLength(1);
    expect(res.body.cancelled[0]).toMatchObject({
      id: a.id,
      status: 'cancelled',
      cancellationReason: 'patient called to cancel',
      version: 2,
    });
    expect(res.body.cancelled[0]?.history.at(-1)).toMatchObject({
      action: 'cancelled',
      reason: 'patient called to cancel',
    });
    expect(await fetched(world(), a.id)).toEqual(res.body.cancelled[0]);
  });

  test('a cancelled appointment frees its slot: another booking of it then succeeds', async () => {
    const a = await bookAt('2027-03-29T11:00:00Z');
    const patientId = (await register(world())).id;
    const slot = { patientId, staffId, type, start: '2027-03-29T11:00:00Z' };
    const refused = await book(world(), slot);
    expectProblem(refused, 409);
    expect(refused.body).toMatchObject({ code: 'appointment_conflict', conflictingAppointmentId: a.id });
    expect(
      (await world().appointment.request('DELETE', `${APPOINTMENTS}/${a.id}`, { token: desk() })).status,
    ).toBe(204);
    const b = await booked(world(), slot);
    expect(b).toMatchObject({
      start: '2027-03-29T11:00:00.000Z',
      end: '2027-03-29T11:30:00.000Z',
      status: 'scheduled',
    });
    expect(b.id).not.toBe(a.id);
  });
});

describe('PUT the details', () => {
  const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    world().appointment.request<Appointment>('PUT', `${APPOINTMENTS}/${id}`, {
      token: desk(),
      body,
      headers,
    });

  test('with If-Match replaces reason and location and bumps the version; the time stays', async () => {
    const a = await bookAt('2027-04-05T09:00:00Z');
    const res = await put(a.id, { reason: 'follow-up', location: 'Room 4' }, { 'if-match': '"v1"' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({
      id: a.id,
      reason: 'follow-up',
      location: 'Room 4',
      start: '2027-04-05T09:00:00.000Z',
      end: '2027-04-05T09:30:00.000Z',
      version: 2,
    });
    expect(res.body.history.at(-1)).toMatchObject({ action: 'updated' });
    expect(await fetched(world(), a.id)).toEqual(res.body);
  });

  test('without If-Match: 428; with a stale one: 412; neither changes anything', async () => {
    const a = await bookAt('2027-04-05T10:00:00Z');
    expect((await put(a.id, { reason: 'first' }, { 'if-match': '"v1"' })).status).toBe(200);
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    expectProblem(await put(a.id, { reason: 'no precondition' }), 428);
    expectProblem(await put(a.id, { reason: 'stale' }, { 'if-match': '"v1"' }), 412);
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
    expect(before.row).toMatchObject({ reason: 'first', version: 2 });
  });
});

describe('the no-show job', () => {
  test('marks an appointment still scheduled NO_SHOW_AFTER_MIN after its end as no-show, with its event; a checked-in one stays', async () => {
    // Monday 2027-03-01, clock at 12:00Z: all three are in the future when booked
    const early = await bookAt('2027-03-01T12:30:00Z'); // ends 13:00
    const late = await bookAt('2027-03-01T13:00:00Z'); // ends 13:30
    const arrived = await bookAt('2027-03-01T14:00:00Z'); // ends 14:30
    expect((await post(`/${arrived.id}/check-in`)).status).toBe(200);

    // 13:30:30: `early` ended 30.5 minutes ago, `late` only 30 seconds ago (less than a minute)
    clock.set('2027-03-01T13:30:30Z');
    await expect
      .poll(async () => (await fetched(world(), early.id)).status, { timeout: 10_000 })
      .toBe('no-show');
    expect((await fetched(world(), late.id)).status).toBe('scheduled');

    // 14:31:30: `late` is past the minute, and so is `arrived`, which is checked in
    clock.set('2027-03-01T14:31:30Z');
    await expect
      .poll(async () => (await fetched(world(), late.id)).status, { timeout: 10_000 })
      .toBe('no-show');
    expect(await fetched(world(), arrived.id)).toMatchObject({ status: 'checked-in', version: 2 });

    const marked = await fetched(world(), late.id);
    expect(marked).toMatchObject({ version: 2, updatedAt: '2027-03-01T14:31:30.000Z' });
    expect(marked.history.at(-1)).toEqual({
      at: '2027-03-01T14:31:30.000Z',
      action: 'no-show',
      by: 'svc:appointment',
    });
    const events = await outboxRows(world().appointment.db, { subject: late.id });
    expect(events.map((e) => e.type)).toEqual(['appointment.created.v1', 'appointment.updated.v1']);
    expect(events[1]?.envelope.data).toEqual({ appointment: marked, change: 'no-show' });
    const arrivedEvents = await outboxRows(world().appointment.db, { subject: arrived.id });
    expect(arrivedEvents.map((e) => e.envelope.data.change)).toEqual([undefined, 'checked-in']);
  });
});
