import type { Appointment } from '@hms/contracts';
import { expectProblem } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, book, booked, counts, createType, onboard, register, useWorld } from './helpers.js';

const world = useWorld();

describe('booking', () => {
  let staffId: string;
  let patientId: string;
  let type: string;
  beforeAll(async () => {
    staffId = (await onboard(world())).id;
    patientId = (await register(world())).id;
    type = (await createType(world(), { bufferAfterMin: 10 })).code;
  });

  test('books a slot inside working hours, with the default duration of its type, and reads it back', async () => {
    // Monday 2027-03-01 10:00 in London (GMT) = 10:00Z
    const a = await booked(world(), {
      patientId,
      staffId,
      type,
      start: '2027-03-01T10:00:00Z',
      reason: 'chest pain',
    });
    expect(a).toMatchObject({
      patientId,
      staffId,
      type,
      start: '2027-03-01T10:00:00.000Z',
      end: '2027-03-01T10:30:00.000Z',
      bufferBeforeMin: 0,
      bufferAfterMin: 10,
      status: 'scheduled',
      version: 1,
      reason: 'chest pain',
    });
    expect(a.history).toEqual([expect.objectContaining({ action: 'booked' })]);
    const res = await world().appointment.request<Appointment>('GET', `${APPOINTMENTS}/${a.id}`, {
      token: world().tokens.desk,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(a);
    expect(res.headers.get('etag')).toBe('"v1"');
  });

  test('refuses an overlapping booking of the same staff member, buffers included, naming the appointment', async () => {
    const first = await booked(world(), { patientId, staffId, type, start: '2027-03-01T13:00:00Z' });
    const other = (await register(world())).id;
    const before = await counts(world().appointment);
    // 13:30 starts inside the first one's 10-minute buffer after (13:30–13:40)
    const res = await book(world(), { patientId: other, staffId, type, start: '2027-03-01T13:30:00Z' });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      code: 'appointment_conflict',
      conflictingAppointmentId: first.id,
      start: '2027-03-01T13:00:00.000Z',
      end: '2027-03-01T13:30:00.000Z',
    });
    expect(await counts(world().appointment)).toEqual(before);
    // 13:40 is clear of it
    await booked(world(), { patientId: other, staffId, type, start: '2027-03-01T13:40:00Z' });
  });

  test('refuses a slot outside working hours with the rule named', async () => {
    const res = await book(world(), { patientId, staffId, type, start: '2027-03-01T16:45:00Z' });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({ code: 'slot_unavailable', rule: 'outside-working-hours' });
  });

  test('bad input is a 400 listing each field, and changes nothing', async () => {
    const before = await counts(world().appointment);
    const res = await book(world(), {
      patientId,
      staffId,
      type,
      start: '2027-03-01T10:00:00Z',
      end: '2027-03-01T09:00:00Z',
      recurrence: { frequency: 'weekly' },
    });
    expectProblem(res, 400);
    expect((res.body as unknown as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual([
      '/body/end',
      '/body/recurrence/count',
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });
});
