import type { SlotList } from '@hms/contracts';
import { qs } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, book, booked, createType, onboard, register, useWorld } from './helpers.js';

/**
 * GET /appointments/slots: bookable start times on a 15-minute grid, by the rules a booking is
 * checked with. Every expected instant below is written by hand in UTC. London is on GMT (= UTC)
 * in early March 2027; Berlin springs forward on Sunday 2027-03-28 at 02:00 CET (01:00Z).
 */
const world = useWorld();

const SLOTS = `${APPOINTMENTS}/slots`;
const find = (params: Record<string, string | number | undefined>) =>
  world().appointment.request<SlotList>('GET', SLOTS + qs(params), { token: world().tokens.desk });

/** Slots of one staff member: each 30 minutes from a start written as HH:MM on `date`. */
const thirty = (staffId: string, date: string, times: string[]) =>
  times.map((t) => {
    const start = new Date(`${date}T${t}:00Z`);
    return {
      staffId,
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    };
  });

let plain: string; // 30 minutes, no buffers
let padded: string; // 30 minutes, 5 before
let long: string; // 30 minutes, 10 before, 15 after
beforeAll(async () => {
  plain = (await createType(world())).code;
  padded = (await createType(world(), { bufferBeforeMin: 5 })).code;
  long = (await createType(world(), { bufferBeforeMin: 10, bufferAfterMin: 15 })).code;
});

describe('one staff member', () => {
  test('working hours minus an existing booking with its buffers, and the slot’s own buffers', async () => {
    const staffId = (await onboard(world())).id; // Tuesdays 09:00–12:00
    // busy 09:50–10:45 (10:00–10:30 with 10 minutes before and 15 after)
    await booked(world(), {
      patientId: (await register(world())).id,
      staffId,
      type: long,
      start: '2027-03-02T10:00:00Z',
    });
    const res = await find({
      type: padded,
      staffId,
      from: '2027-03-02T00:00:00Z',
      to: '2027-03-03T00:00:00Z',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // a padded slot's busy span starts 5 minutes before it: 09:30 (09:25–10:00) and 10:45
    // (10:40–11:15) meet the booking; 11:45 would end after 12:00
    expect(res.body).toEqual({
      type: padded,
      from: '2027-03-02T00:00:00.000Z',
      to: '2027-03-03T00:00:00.000Z',
      gridMin: 15,
      slots: thirty(staffId, '2027-03-02', ['09:00', '09:15', '11:00', '11:15', '11:30']),
    });

    // a slot offered books
    const patientId = (await register(world())).id;
    const a = await booked(world(), { patientId, staffId, type: padded, start: '2027-03-02T11:00:00Z' });
    expect(a).toMatchObject({ start: '2027-03-02T11:00:00.000Z', end: '2027-03-02T11:30:00.000Z' });
    // and is offered no more, nor are those its busy span (10:55–11:30) now meets
    const after = await find({
      type: padded,
      staffId,
      from: '2027-03-02T00:00:00Z',
      to: '2027-03-03T00:00:00Z',
    });
    expect(after.body.slots).toEqual(thirty(staffId, '2027-03-02', ['09:00', '09:15']));
  });

  test('every slot offered over a working day books, one after another', async () => {
    const staffId = (await onboard(world(), { weeklyHours: [{ day: 'tue', start: '09:00', end: '10:30' }] }))
      .id;
    const res = await find({
      type: plain,
      staffId,
      from: '2027-03-09T00:00:00Z',
      to: '2027-03-10T00:00:00Z',
    });
    expect(res.body.slots).toEqual(
      thirty(staffId, '2027-03-09', ['09:00', '09:15', '09:30', '09:45', '10:00']),
    );
    // 09:00, 09:30, 10:00 do not overlap one another
    for (const start of ['09:00', '09:30', '10:00'])
      await booked(world(), {
        patientId: (await register(world())).id,
        staffId,
        type: plain,
        start: `2027-03-09T${start}:00Z`,
      });
    expect(
      (await find({ type: plain, staffId, from: '2027-03-09T00:00:00Z', to: '2027-03-10T00:00:00Z' })).body
        .slots,
    ).toEqual([]);
  });

  test('only slots that start in [from, to)', async () => {
    const staffId = (await onboard(world())).id;
    const res = await find({
      type: plain,
      staffId,
      from: '2027-03-01T16:10:00Z',
      to: '2027-03-01T16:45:00Z',
    });
    // 16:15 and 16:30 start in the range; 16:30–17:00 ends at the end of Monday's hours
    expect(res.body.slots).toEqual(thirty(staffId, '2027-03-01', ['16:15', '16:30']));
  });
});

describe('bad queries: 400 naming the parameter', () => {
  test('a range of more than 31 days; exactly 31 is fine', async () => {
    const staffId = (await onboard(world())).id;
    const ok = await find({ type: plain, staffId, from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    // Mondays 03-01, 03-08, 03-15, 03-22, 03-29 (BST from 03-28: 08:00Z–16:00Z) and Tuesdays
    expect(ok.body.slots[0]).toEqual({
      staffId,
      start: '2027-03-01T09:00:00.000Z',
      end: '2027-03-01T09:30:00.000Z',
    });
    expect(ok.body.slots.at(-1)).toEqual({
      staffId,
      start: '2027-03-30T10:30:00.000Z',
      end: '2027-03-30T11:00:00.000Z',
    });
    const tooLong = await find({
      type: plain,
      staffId,
      from: '2027-03-01T00:00:00Z',
      to: '2027-04-01T00:15:00Z',
    });
    expect(expectValidationErrors(tooLong).map((e) => e.path)).toEqual(['/querystring/to']);
  });

  test('to not after from', async () => {
    const staffId = (await onboard(world())).id;
    const res = await find({
      type: plain,
      staffId,
      from: '2027-03-02T00:00:00Z',
      to: '2027-03-02T00:00:00Z',
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/to']);
  });

  test('neither staffId, specialty nor department', async () => {
    const res = await find({ type: plain, from: '2027-03-02T00:00:00Z', to: '2027-03-03T00:00:00Z' });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/staffId']);
  });

  test('a type nobody created, a staff member nobody has', async () => {
    const staffId = (await onboard(world())).id;
    const noType = await find({
      type: 'no-such-type',
      staffId,
      from: '2027-03-02T00:00:00Z',
      to: '2027-03-03T00:00:00Z',
    });
    expect(expectValidationErrors(noType).map((e) => e.path)).toEqual(['/querystring/type']);
    const noStaff = await find({
      type: plain,
      staffId: '0190d6f2-5b1c-7c3e-9a4b-0000000000ee',
      from: '2027-03-02T00:00:00Z',
      to: '2027-03-03T00:00:00Z',
    });
    expect(expectValidationErrors(noStaff).map((e) => e.path)).toEqual(['/querystring/staffId']);
  });

  test('missing type, from and to', async () => {
    const staffId = (await onboard(world())).id;
    expect(expectValidationErrors(await find({ staffId })).map((e) => e.path)).toEqual([
      '/querystring/from',
      '/querystring/to',
      '/querystring/type',
    ]);
  });
});

describe('many staff members', () => {
  test('by department: the slots of both of its staff members, by start and then staff id', async () => {
    const department = `Sleep-${Date.now().toString(36)}`;
    const a = (await onboard(world(), { department })).id; // Tuesdays 09:00–12:00
    const b = (
      await onboard(world(), { department, weeklyHours: [{ day: 'tue', start: '09:30', end: '11:00' }] })
    ).id;
    await onboard(world()); // another department
    const query = { type: plain, department, from: '2027-03-02T09:00:00Z', to: '2027-03-02T10:00:00Z' };
    // Appointment learns of staff members from Staff's events
    await expect
      .poll(async () => new Set((await find(query)).body.slots.map((s) => s.staffId)).size, {
        timeout: 15_000,
      })
      .toBe(2);
    const [first, second] = [a, b].sort();
    const res = await find(query);
    expect(res.status).toBe(200);
    expect(res.body.slots).toEqual([
      ...thirty(a, '2027-03-02', ['09:00', '09:15']),
      ...thirty(first as string, '2027-03-02', ['09:30']),
      ...thirty(second as string, '2027-03-02', ['09:30']),
      ...thirty(first as string, '2027-03-02', ['09:45']),
      ...thirty(second as string, '2027-03-02', ['09:45']),
    ]);
  });

  test('by specialty: only staff members who have it', async () => {
    const specialty = `somnology-${Date.now().toString(36)}`;
    const s = (await onboard(world(), { specialties: ['neurology', specialty] })).id;
    await onboard(world(), { specialties: ['neurology'] });
    const query = { type: plain, specialty, from: '2027-03-02T11:00:00Z', to: '2027-03-02T12:00:00Z' };
    await expect
      .poll(async () => (await find(query)).body.slots.length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect((await find(query)).body.slots).toEqual(thirty(s, '2027-03-02', ['11:00', '11:15', '11:30']));
  });
});

describe('across a DST change', () => {
  test('a Berlin night shift on the spring-forward Sunday has no slot in the gap, and is an hour shorter', async () => {
    // Sundays 01:00–04:00 Berlin
    const staffId = (
      await onboard(world(), {
        timezone: 'Europe/Berlin',
        weeklyHours: [{ day: 'sun', start: '01:00', end: '04:00' }],
      })
    ).id;
    // the Sunday before: 01:00 CET = 00:00Z to 04:00 CET = 03:00Z
    const before = await find({
      type: plain,
      staffId,
      from: '2027-03-20T12:00:00Z',
      to: '2027-03-21T12:00:00Z',
    });
    expect(before.body.slots).toEqual(
      thirty(staffId, '2027-03-21', [
        '00:00',
        '00:15',
        '00:30',
        '00:45',
        '01:00',
        '01:15',
        '01:30',
        '01:45',
        '02:00',
        '02:15',
        '02:30',
      ]),
    );
    // 2027-03-28: 01:00 CET = 00:00Z; 02:00 CET jumps to 03:00 CEST = 01:00Z; 04:00 CEST = 02:00Z
    const res = await find({
      type: plain,
      staffId,
      from: '2027-03-27T12:00:00Z',
      to: '2027-03-28T12:00:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body.slots).toEqual(
      thirty(staffId, '2027-03-28', ['00:00', '00:15', '00:30', '00:45', '01:00', '01:15', '01:30']),
    );
    // the slot right after the gap (03:00 CEST) books; 04:00 CEST is past the shift
    const patientId = (await register(world())).id;
    await booked(world(), { patientId, staffId, type: plain, start: '2027-03-28T01:00:00Z' });
    const late = await book(world(), { patientId, staffId, type: plain, start: '2027-03-28T02:00:00Z' });
    expectProblem(late, 409);
    expect(late.body).toMatchObject({ code: 'slot_unavailable', rule: 'outside-working-hours' });
  });
});
