import type { Staff, StaffAvailability } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { CLOSURES, STAFF, newStaff, onboard, useStaffService, type Tokens } from './helpers.js';

/**
 * `GET /staff/{id}/availability` over HTTP (issue #11). Expected instants are written by hand in
 * UTC. Europe/Berlin springs forward on 2027-03-28 at 01:00Z (02:00 CET → 03:00 CEST).
 */
let svc: RunningService;
let tokens: Tokens;
useStaffService((s, t) => {
  svc = s;
  tokens = t;
});

const FROM = '2027-03-27T00:00:00.000Z'; // Saturday
const TO = '2027-03-30T00:00:00.000Z'; // Tuesday 00:00Z

const availabilityOf = (id: string, from = FROM, to = TO) =>
  svc.request<StaffAvailability>('GET', `${STAFF}/${id}/availability?from=${from}&to=${to}`, {
    token: tokens.reader,
  });

describe('availability of a staff member', () => {
  let nurse: Staff;

  it('is working time across a spring-forward night and past midnight, minus time off', async () => {
    nurse = await onboard(
      svc,
      tokens.writer,
      newStaff({
        timezone: 'Europe/Berlin',
        weeklyHours: [
          { day: 'sat', start: '22:00', end: '03:00' }, // the night the clocks spring forward
          { day: 'mon', start: '09:00', end: '17:00' },
        ],
        overrides: [],
      }),
    );
    const off = await svc.request('POST', `${STAFF}/${nurse.id}/time-off`, {
      token: tokens.writer,
      body: { start: '2027-03-29T10:00:00Z', end: '2027-03-29T11:00:00Z', reason: 'training' },
    });
    expect(off.status).toBe(201);
    const res = await availabilityOf(nurse.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      staffId: nurse.id,
      timezone: 'Europe/Berlin',
      from: FROM,
      to: TO,
      intervals: [
        // Sat 22:00 CET (21:00Z) to Sun 03:00 CEST (01:00Z): four real hours, none inside the gap
        { start: '2027-03-27T21:00:00.000Z', end: '2027-03-28T01:00:00.000Z' },
        // Mon 09:00–17:00 CEST is 07:00–15:00Z, less the time off 10:00–11:00Z
        { start: '2027-03-29T07:00:00.000Z', end: '2027-03-29T10:00:00.000Z' },
        { start: '2027-03-29T11:00:00.000Z', end: '2027-03-29T15:00:00.000Z' },
      ],
    });
  });

  it("loses a whole day to a facility closure (a day in the facility's time zone, UTC here)", async () => {
    const closed = await svc.request('POST', CLOSURES, {
      token: tokens.writer,
      body: { date: '2027-03-29', name: 'Easter Monday' },
    });
    expect(closed.status).toBe(201);
    try {
      const res = await availabilityOf(nurse.id);
      expect(res.body.intervals).toEqual([
        { start: '2027-03-27T21:00:00.000Z', end: '2027-03-28T01:00:00.000Z' },
      ]);
    } finally {
      await svc.request('DELETE', `${CLOSURES}/2027-03-29`, { token: tokens.writer });
    }
  });

  it('follows a date override, and is empty for an inactive staff member', async () => {
    const doctor = await onboard(
      svc,
      tokens.writer,
      newStaff({
        timezone: 'America/New_York',
        weeklyHours: [{ day: 'mon', start: '09:00', end: '17:00' }],
        overrides: [{ date: '2027-03-27', shifts: [{ start: '10:00', end: '12:00' }] }],
      }),
    );
    // New York is on EDT (UTC-4) since 2027-03-14: Sat 10:00–12:00 EDT is 14:00–16:00Z,
    // Mon 09:00–17:00 EDT is 13:00–21:00Z
    expect((await availabilityOf(doctor.id)).body.intervals).toEqual([
      { start: '2027-03-27T14:00:00.000Z', end: '2027-03-27T16:00:00.000Z' },
      { start: '2027-03-29T13:00:00.000Z', end: '2027-03-29T21:00:00.000Z' },
    ]);
    expect((await svc.request('DELETE', `${STAFF}/${doctor.id}`, { token: tokens.writer })).status).toBe(204);
    expect((await availabilityOf(doctor.id)).body.intervals).toEqual([]);
  });

  it('refuses a range that ends before it starts or spans more than 31 days, naming the field', async () => {
    const before = await availabilityOf(nurse.id, TO, FROM);
    expect(expectValidationErrors(before).map((e) => e.path)).toEqual(['/querystring/to']);
    const long = await availabilityOf(nurse.id, FROM, '2027-04-28T00:00:01.000Z');
    expect(expectValidationErrors(long).map((e) => e.path)).toEqual(['/querystring/to']);
    const malformed = await availabilityOf(nurse.id, 'yesterday', TO);
    expect(expectValidationErrors(malformed).map((e) => e.path)).toContain('/querystring/from');
    expectProblem(await availabilityOf('0190d6f2-5b1c-7c3e-9a4b-2f6d8e1a3c5b'), 404);
  });
});
