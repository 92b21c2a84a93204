import { assertValidEvent, type Appointment, type AppointmentSeries } from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem, expectValidationErrors, postCreated } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, booked, counts, createType, fetched, onboard, register, useWorld } from './helpers.js';

/**
 * Recurring series: every occurrence is checked, and booked all or none. The staff members work
 * Mondays 09:00–17:00 in London: GMT (= UTC) until Sunday 2027-03-28 01:00Z, BST (UTC+1) after,
 * so a 10:00 local occurrence is 10:00Z before the change and 09:00Z after it.
 */
const world = useWorld();

let type: string;
beforeAll(async () => {
  type = (await createType(world())).code; // 30 minutes, no buffers
});

const bookSeries = (body: Record<string, unknown>) =>
  world().appointment.request<AppointmentSeries & Record<string, unknown>>('POST', APPOINTMENTS, {
    token: world().tokens.desk,
    body,
  });

async function fresh(): Promise<{ staffId: string; patientId: string }> {
  return { staffId: (await onboard(world())).id, patientId: (await register(world())).id };
}

const startsOf = (list: { start: string }[]) => list.map((a) => a.start);

/** Waits until Appointment's own copy holds a row (an event from Staff landed). */
async function landed(sql: string, id: string): Promise<void> {
  await expect
    .poll(async () => (await world().appointment.db.query(sql, [id])).rows.length, { timeout: 15_000 })
    .toBe(1);
}

describe('a weekly series across the spring-forward change in London', () => {
  let series: AppointmentSeries;
  let staffId: string;
  let patientId: string;

  test('books four occurrences at 10:00 local wall time, sharing one seriesId', async () => {
    ({ staffId, patientId } = await fresh());
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z', // Monday 10:00 GMT
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    series = res.body;
    expect(series.seriesId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('location')).toBe(`${APPOINTMENTS}?seriesId=${series.seriesId}`);
    expect(startsOf(series.appointments)).toEqual([
      '2027-03-15T10:00:00.000Z',
      '2027-03-22T10:00:00.000Z',
      '2027-03-29T09:00:00.000Z', // 10:00 BST
      '2027-04-05T09:00:00.000Z',
    ]);
    expect(series.appointments.map((a) => a.end)).toEqual([
      '2027-03-15T10:30:00.000Z',
      '2027-03-22T10:30:00.000Z',
      '2027-03-29T09:30:00.000Z',
      '2027-04-05T09:30:00.000Z',
    ]);
    for (const a of series.appointments)
      expect(a).toMatchObject({
        seriesId: series.seriesId,
        patientId,
        staffId,
        type,
        status: 'scheduled',
        version: 1,
      });
    expect(new Set(series.appointments.map((a) => a.id)).size).toBe(4);
    expect(await counts(world().appointment)).toEqual({
      appointments: before.appointments + 4,
      outbox: before.outbox + 4,
    });
  });

  test('writes one appointment.created.v1 per occurrence, each carrying the seriesId', async () => {
    for (const a of series.appointments) {
      const rows = await outboxRows(world().appointment.db, { subject: a.id });
      expect(rows.map((r) => r.type)).toEqual(['appointment.created.v1']);
      const envelope = rows[0]?.envelope;
      if (!envelope) throw new Error('unreachable');
      assertValidEvent(envelope);
      expect(envelope.data).toEqual({ appointment: a });
      expect((envelope.data.appointment as Appointment).seriesId).toBe(series.seriesId);
    }
  });

  test('the list by seriesId answers the four occurrences in start order', async () => {
    const res = await world().appointment.request<{ items: Appointment[] }>(
      'GET',
      `${APPOINTMENTS}?seriesId=${series.seriesId}`,
      { token: world().tokens.desk },
    );
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(series.appointments);
  });
});

describe('all or none', () => {
  test('a series whose third occurrence overlaps an appointment of the staff member: 409 listing it, nothing booked', async () => {
    const { staffId, patientId } = await fresh();
    const other = await booked(world(), {
      patientId: (await register(world())).id,
      staffId,
      type,
      start: '2027-03-29T09:15:00Z', // 10:15–10:45 BST, over the third occurrence
    });
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      code: 'appointment_conflict',
      conflictingAppointmentId: other.id,
      start: '2027-03-29T09:15:00.000Z',
      end: '2027-03-29T09:45:00.000Z',
    });
    expect(res.body.conflicts).toEqual([
      {
        occurrenceStart: '2027-03-29T09:00:00.000Z',
        occurrenceEnd: '2027-03-29T09:30:00.000Z',
        conflictingAppointmentId: other.id,
        start: '2027-03-29T09:15:00.000Z',
        end: '2027-03-29T09:45:00.000Z',
        with: 'staff',
      },
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('a series whose second occurrence overlaps an appointment of the patient with someone else: 409, nothing booked', async () => {
    const { staffId, patientId } = await fresh();
    const elsewhere = await booked(world(), {
      patientId,
      staffId: (await onboard(world())).id,
      type,
      start: '2027-03-22T10:00:00Z',
    });
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 3 },
    });
    expectProblem(res, 409);
    expect(res.body.conflicts).toEqual([
      {
        occurrenceStart: '2027-03-22T10:00:00.000Z',
        occurrenceEnd: '2027-03-22T10:30:00.000Z',
        conflictingAppointmentId: elsewhere.id,
        start: '2027-03-22T10:00:00.000Z',
        end: '2027-03-22T10:30:00.000Z',
        with: 'patient',
      },
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('an occurrence on time off recorded before Appointment first saw the staff member: 409 slot_unavailable listing it', async () => {
    const { staffId, patientId } = await fresh();
    // the whole of Monday 2027-03-22 (GMT)
    await postCreated(world().staff, `/api/v1/staff/${staffId}/time-off`, world().tokens.manager, {
      start: '2027-03-22T00:00:00Z',
      end: '2027-03-23T00:00:00Z',
      reason: 'conference',
    });
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({ code: 'slot_unavailable', rule: 'time-off' });
    expect(res.body.occurrences).toEqual([
      { start: '2027-03-22T10:00:00.000Z', end: '2027-03-22T10:30:00.000Z', rule: 'time-off' },
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('an occurrence on time off recorded after Appointment saw the staff member (from Staff’s event): 409 listing it', async () => {
    const { staffId, patientId } = await fresh();
    // Appointment meets the staff member (and fills its copy of their time off: none yet)
    await booked(world(), { patientId, staffId, type, start: '2027-03-01T10:00:00Z' });
    const timeOff = await postCreated<{ id: string }>(
      world().staff,
      `/api/v1/staff/${staffId}/time-off`,
      world().tokens.manager,
      { start: '2027-04-05T08:00:00Z', end: '2027-04-05T12:00:00Z' },
    );
    await landed('SELECT 1 FROM staff_time_off WHERE id = $1 AND NOT removed', timeOff.id);
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expectProblem(res, 409);
    expect(res.body.occurrences).toEqual([
      { start: '2027-04-05T09:00:00.000Z', end: '2027-04-05T09:30:00.000Z', rule: 'time-off' },
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('an occurrence on a facility closure: 409 slot_unavailable listing it, nothing booked', async () => {
    const { staffId, patientId } = await fresh();
    // the spring bank holiday, Monday 2027-05-31 (the facility's zone: UTC)
    const closure = await postCreated<{ id: string }>(
      world().staff,
      '/api/v1/staff/closures',
      world().tokens.manager,
      {
        date: '2027-05-31',
        name: 'Spring bank holiday',
      },
    );
    await landed('SELECT 1 FROM facility_closures WHERE id = $1 AND NOT removed', closure.id);
    const before = await counts(world().appointment);
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-05-17T09:00:00Z', // 10:00 BST
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expectProblem(res, 409);
    expect(res.body).toMatchObject({ code: 'slot_unavailable', rule: 'facility-closed' });
    expect(res.body.occurrences).toEqual([
      { start: '2027-05-31T09:00:00.000Z', end: '2027-05-31T09:30:00.000Z', rule: 'facility-closed' },
    ]);
    expect(await counts(world().appointment)).toEqual(before);
  });
});

describe('the end of a series', () => {
  test('`until` as a local date includes occurrences on that date', async () => {
    const { staffId, patientId } = await fresh();
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-04-12T09:00:00Z', // Monday 10:00 BST
      recurrence: { frequency: 'weekly', until: '2027-05-03' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(startsOf(res.body.appointments)).toEqual([
      '2027-04-12T09:00:00.000Z',
      '2027-04-19T09:00:00.000Z',
      '2027-04-26T09:00:00.000Z',
      '2027-05-03T09:00:00.000Z',
    ]);
  });

  test('every second week, in an explicit time zone', async () => {
    const { staffId, patientId } = await fresh();
    // 11:00 UTC each time: 11:00 GMT, then 12:00 BST, both inside Monday's hours
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-03-08T11:00:00Z',
      recurrence: { frequency: 'weekly', interval: 2, count: 3, timezone: 'UTC' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(startsOf(res.body.appointments)).toEqual([
      '2027-03-08T11:00:00.000Z',
      '2027-03-22T11:00:00.000Z',
      '2027-04-05T11:00:00.000Z',
    ]);
  });

  test('more than 52 occurrences: 400 naming the field, nothing booked', async () => {
    const { staffId, patientId } = await fresh();
    const before = await counts(world().appointment);
    const byCount = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-06-07T09:00:00Z',
      recurrence: { frequency: 'weekly', count: 53 },
    });
    expect(expectValidationErrors(byCount).map((e) => e.path)).toEqual(['/body/recurrence/count']);
    // daily from 2027-06-07 to the end of the year: 208 occurrences
    const byUntil = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-06-07T09:00:00Z',
      recurrence: { frequency: 'daily', until: '2027-12-31' },
    });
    expect(expectValidationErrors(byUntil).map((e) => e.path)).toEqual(['/body/recurrence/until']);
    expect(await counts(world().appointment)).toEqual(before);
  });
});

describe('cancelling part of a series', () => {
  test("scope 'following' from the second occurrence cancels the second to the fourth and leaves the first", async () => {
    const { staffId, patientId } = await fresh();
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-06-07T09:00:00Z', // Monday 10:00 BST
      recurrence: { frequency: 'weekly', count: 4 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [first, second, third, fourth] = res.body.appointments as [
      Appointment,
      Appointment,
      Appointment,
      Appointment,
    ];
    const cancel = await world().appointment.request<{ cancelled: Appointment[] }>(
      'POST',
      `${APPOINTMENTS}/${second.id}/cancel`,
      { token: world().tokens.desk, body: { reason: 'moving away', scope: 'following' } },
    );
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body.cancelled.map((a) => a.id)).toEqual([second.id, third.id, fourth.id]);
    for (const a of cancel.body.cancelled)
      expect(a).toMatchObject({ status: 'cancelled', cancellationReason: 'moving away', version: 2 });
    expect(await fetched(world(), first.id)).toEqual(first);
    for (const a of [second, third, fourth]) expect((await fetched(world(), a.id)).status).toBe('cancelled');
    for (const a of [second, third, fourth]) {
      const rows = await outboxRows(world().appointment.db, {
        subject: a.id,
        type: 'appointment.cancelled.v1',
      });
      expect(rows.map((r) => r.envelope.data)).toEqual([
        {
          appointment: expect.objectContaining({ id: a.id, version: 2 }) as unknown,
          scope: 'following',
          reason: 'moving away',
        },
      ]);
    }
    // the freed slots book again
    await booked(world(), { patientId, staffId, type, start: '2027-06-14T09:00:00Z' });
  });

  test("scope 'this' cancels only the occurrence asked for", async () => {
    const { staffId, patientId } = await fresh();
    const res = await bookSeries({
      patientId,
      staffId,
      type,
      start: '2027-06-08T09:00:00Z', // Tuesday 10:00 BST
      recurrence: { frequency: 'weekly', count: 3 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [first, second, third] = res.body.appointments as [Appointment, Appointment, Appointment];
    const cancel = await world().appointment.request<{ cancelled: Appointment[] }>(
      'POST',
      `${APPOINTMENTS}/${second.id}/cancel`,
      { token: world().tokens.desk, body: { reason: 'away that week' } },
    );
    expect(cancel.status).toBe(200);
    expect(cancel.body.cancelled.map((a) => a.id)).toEqual([second.id]);
    expect((await fetched(world(), first.id)).status).toBe('scheduled');
    expect((await fetched(world(), third.id)).status).toBe('scheduled');
  });
});
