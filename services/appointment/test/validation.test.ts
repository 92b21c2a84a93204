import { randomUUID } from 'node:crypto';
import type { Appointment } from '@hms/contracts';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  APPOINTMENTS,
  book,
  booked,
  counts,
  createType,
  onboard,
  register,
  settableClock,
  storedAppointment,
  useWorld,
  type World,
} from './helpers.js';

/**
 * Bad input is a 400 problem naming each field, and changes nothing. Appointment's clock stands
 * at Tuesday 2027-03-02 12:00Z, so "more than 24 hours in the past" is before Monday 2027-03-01
 * 12:00Z. The staff members work Mondays 09:00–17:00 and Tuesdays 09:00–12:00 in London (GMT).
 */
const world = useWorld({ appointmentClock: settableClock('2027-03-02T12:00:00Z') });

let staffId: string;
let patientId: string;
let type: string;
beforeAll(async () => {
  staffId = (await onboard(world())).id;
  patientId = (await register(world())).id;
  type = (await createType(world())).code; // 30 minutes
});

const valid = () => ({ patientId, staffId, type, start: '2027-03-08T10:00:00Z' });
const paths = (res: Awaited<ReturnType<typeof book>>) => expectValidationErrors(res).map((e) => e.path);

describe('POST /appointments: 400 naming each bad field, nothing written', () => {
  let before: Awaited<ReturnType<typeof counts>>;
  beforeEach(async () => {
    before = await counts(world().appointment);
  });
  const nothingWritten = async () => expect(await counts(world().appointment)).toEqual(before);

  test.each([
    ['an end before the start', { end: '2027-03-08T09:00:00Z' }, ['/body/end']],
    ['a duration of 0 (end equal to start)', { end: '2027-03-08T10:00:00Z' }, ['/body/end']],
    ['a duration of exactly 24 hours', { end: '2027-03-09T10:00:00Z' }, ['/body/end']],
    ['a duration of more than 24 hours', { end: '2027-03-10T10:00:00Z' }, ['/body/end']],
    ['an end that is not a date-time', { end: 'tomorrow' }, ['/body/end']],
    ['a start more than 24 hours in the past', { start: '2027-03-01T11:59:00Z' }, ['/body/start']],
    ['a start that is not RFC 3339', { start: '2027-03-08 10:00' }, ['/body/start']],
    [
      'a recurrence in a time zone nobody has',
      { recurrence: { frequency: 'weekly', count: 2, timezone: 'Mars/Olympus_Mons' } },
      ['/body/recurrence/timezone'],
    ],
    ['a recurrence without an end', { recurrence: { frequency: 'weekly' } }, ['/body/recurrence/count']],
    [
      'a recurrence with both count and until',
      { recurrence: { frequency: 'weekly', count: 2, until: '2027-04-01' } },
      ['/body/recurrence/until'],
    ],
    [
      'a recurrence whose until is before the start',
      { recurrence: { frequency: 'daily', until: '2027-03-01' } },
      ['/body/recurrence/until'],
    ],
    [
      'a recurrence of an unknown frequency',
      { recurrence: { frequency: 'monthly', count: 2 } },
      ['/body/recurrence/frequency'],
    ],
    ['an appointment type nobody created', { type: 'no-such-type' }, ['/body/type']],
    ['a type code outside the pattern', { type: 'Consult 30' }, ['/body/type']],
    ['a patient nobody has', { patientId: randomUUID() }, ['/body/patientId']],
    ['a staff member nobody has', { staffId: randomUUID() }, ['/body/staffId']],
    [
      'a patient and a staff member nobody has',
      { patientId: randomUUID(), staffId: randomUUID() },
      ['/body/patientId', '/body/staffId'],
    ],
    ['ids that are not uuids', { patientId: 'ada', staffId: '42' }, ['/body/patientId', '/body/staffId']],
    ['a property the API does not have', { colour: 'blue' }, ['/body/colour']],
    ['a reason too long', { reason: 'x'.repeat(501) }, ['/body/reason']],
  ])('%s', async (_name, change, expected) => {
    const res = await book(world(), { ...valid(), ...change });
    expect(paths(res)).toEqual(expected);
    await nothingWritten();
  });

  test('missing required fields are each named', async () => {
    expect(paths(await book(world(), {}))).toEqual([
      '/body/patientId',
      '/body/staffId',
      '/body/start',
      '/body/type',
    ]);
    await nothingWritten();
  });

  test('every problem of the request at once', async () => {
    const res = await book(world(), {
      ...valid(),
      type: 'no-such-type',
      start: '2027-02-27T10:00:00Z', // three days before the clock
      end: '2027-02-27T09:00:00Z',
      recurrence: { frequency: 'weekly', timezone: 'Nowhere/Special' },
    });
    expect(paths(res)).toEqual([
      '/body/end',
      '/body/recurrence/count',
      '/body/recurrence/timezone',
      '/body/start',
      '/body/type',
    ]);
    await nothingWritten();
  });

  test('a start less than 24 hours in the past is accepted', async () => {
    // 23.5 hours before the clock, inside Monday's hours
    const a = await booked(world(), { ...valid(), start: '2027-03-01T12:30:00Z' });
    expect(a).toMatchObject({ start: '2027-03-01T12:30:00.000Z', end: '2027-03-01T13:00:00.000Z' });
  });
});

/** Waits until Appointment's copy of a patient or staff member says it is inactive (its event landed). */
async function copiedInactive(w: World, kind: 'patient' | 'staff', id: string): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await w.appointment.db.query<{ active: boolean }>(
            `SELECT (data->>'active')::boolean AS active FROM local_copies WHERE kind = $1 AND id = $2`,
            [kind, id],
          )
        ).rows[0]?.active,
      { timeout: 15_000 },
    )
    .toBe(false);
}

describe('who may be booked: 409, nothing written', () => {
  test('an inactive patient: 409 patient_inactive', async () => {
    const p = (await register(world())).id;
    const deactivated = await world().patient.request('DELETE', `/api/v1/patients/${p}`, {
      token: world().tokens.desk,
    });
    expect(deactivated.status).toBe(204);
    await copiedInactive(world(), 'patient', p);
    const before = await counts(world().appointment);
    const res = await book(world(), { ...valid(), patientId: p });
    expect(expectProblem(res, 409).code).toBe('patient_inactive');
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('an inactive staff member: 409 staff_inactive', async () => {
    const s = (await onboard(world())).id;
    const patched = await world().staff.request('PATCH', `/api/v1/staff/${s}`, {
      token: world().tokens.manager,
      body: { active: false },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await copiedInactive(world(), 'staff', s);
    const before = await counts(world().appointment);
    const res = await book(world(), { ...valid(), staffId: s });
    expect(expectProblem(res, 409).code).toBe('staff_inactive');
    expect(await counts(world().appointment)).toEqual(before);
  });

  test('a patient deactivated after booking cannot be rescheduled', async () => {
    const p = (await register(world())).id;
    const a = await booked(world(), { ...valid(), patientId: p, start: '2027-03-08T14:00:00Z' });
    expect(
      (await world().patient.request('DELETE', `/api/v1/patients/${p}`, { token: world().tokens.desk }))
        .status,
    ).toBe(204);
    await copiedInactive(world(), 'patient', p);
    const row = await storedAppointment(world().appointment, a.id);
    const res = await world().appointment.request('POST', `${APPOINTMENTS}/${a.id}/reschedule`, {
      token: world().tokens.desk,
      body: { start: '2027-03-08T15:00:00Z' },
    });
    expect(expectProblem(res, 409).code).toBe('patient_inactive');
    expect(await storedAppointment(world().appointment, a.id)).toEqual(row);
  });
});

describe('the other bodies: 400 naming each bad field, nothing changed', () => {
  let a: Appointment;
  let row: Record<string, unknown>;
  beforeAll(async () => {
    a = await booked(world(), { ...valid(), start: '2027-03-08T16:00:00Z' });
  });
  beforeEach(async () => {
    row = await storedAppointment(world().appointment, a.id);
  });
  const post = (path: string, body: unknown) =>
    world().appointment.request('POST', `${APPOINTMENTS}/${a.id}${path}`, {
      token: world().tokens.desk,
      body,
    });

  test.each([
    [
      'an end before the start',
      { start: '2027-03-08T11:00:00Z', end: '2027-03-08T10:00:00Z' },
      ['/body/end'],
    ],
    ['a duration of 24 hours', { start: '2027-03-08T11:00:00Z', end: '2027-03-09T11:00:00Z' }, ['/body/end']],
    ['a start more than 24 hours in the past', { start: '2027-02-22T10:00:00Z' }, ['/body/start']],
    ['no start', {}, ['/body/start']],
    [
      'a property it does not have',
      { start: '2027-03-08T11:00:00Z', staffId: randomUUID() },
      ['/body/staffId'],
    ],
  ])('reschedule with %s', async (_name, body, expected) => {
    expect(expectValidationErrors(await post('/reschedule', body)).map((e) => e.path)).toEqual(expected);
    expect(await storedAppointment(world().appointment, a.id)).toEqual(row);
  });

  test.each([
    ['no reason', {}, ['/body/reason']],
    ['a blank reason', { reason: '   ' }, ['/body/reason']],
    ['an unknown scope', { reason: 'ill', scope: 'all' }, ['/body/scope']],
  ])('cancel with %s', async (_name, body, expected) => {
    expect(expectValidationErrors(await post('/cancel', body)).map((e) => e.path)).toEqual(expected);
    expect(await storedAppointment(world().appointment, a.id)).toEqual(row);
  });

  test('an id that is not a uuid is a 400 naming /params/id', async () => {
    const res = await world().appointment.request('GET', `${APPOINTMENTS}/not-a-uuid`, {
      token: world().tokens.desk,
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/params/id']);
  });
});
