import { describe, expect, test } from 'vitest';
import { availability, closureIntervals, covers, type WorkSchedule } from '@hms/scheduling';
import { iv } from './helpers.js';

const none = { closures: [], timeOff: [], bookings: [] };

describe('availability', () => {
  const berlinNights: WorkSchedule = {
    timezone: 'Europe/Berlin',
    weeklyHours: [
      { day: 'mon', start: '21:00', end: '03:00' },
      { day: 'tue', start: '09:00', end: '17:00' },
    ],
    overrides: [],
  };
  // Mon 2027-01-04 21:00 CET = 20:00Z … Tue 03:00 CET = 02:00Z; Tue 09:00-17:00 CET = 08:00Z-16:00Z
  const week = iv('2027-01-04T00:00:00Z', '2027-01-06T00:00:00Z');

  test('a Monday night shift 21:00-03:00 keeps its Tuesday-morning tail when time off starts Tuesday 06:00', () => {
    const timeOff = [iv('2027-01-05T05:00:00Z', '2027-01-05T23:00:00Z')]; // Tue 06:00-24:00 CET
    expect(availability({ ...none, schedule: berlinNights, timeOff }, week)).toEqual([
      iv('2027-01-04T20:00:00Z', '2027-01-05T02:00:00Z'),
    ]);
  });

  test('time off for the whole of Tuesday cuts the Monday night shift at local midnight', () => {
    const timeOff = [iv('2027-01-04T23:00:00Z', '2027-01-05T23:00:00Z')]; // Tue 00:00-24:00 CET
    expect(availability({ ...none, schedule: berlinNights, timeOff }, week)).toEqual([
      iv('2027-01-04T20:00:00Z', '2027-01-04T23:00:00Z'),
    ]);
  });

  test('a facility closure is a whole local day in the facility timezone, not the staff member’s', () => {
    const ny: WorkSchedule = {
      timezone: 'America/New_York',
      weeklyHours: [
        { day: 'tue', start: '16:00', end: '20:00' }, // 21:00Z-01:00Z (EST)
        { day: 'wed', start: '09:00', end: '17:00' }, // 14:00Z-22:00Z
        { day: 'thu', start: '09:00', end: '17:00' },
      ],
      overrides: [],
    };
    const range = iv('2027-01-05T00:00:00Z', '2027-01-08T00:00:00Z');
    const closures = closureIntervals(['2027-01-06'], 'Europe/Berlin', range);
    expect(closures).toEqual([iv('2027-01-05T23:00:00Z', '2027-01-06T23:00:00Z')]);
    expect(availability({ ...none, schedule: ny, closures }, range)).toEqual([
      iv('2027-01-05T21:00:00Z', '2027-01-05T23:00:00Z'),
      iv('2027-01-07T14:00:00Z', '2027-01-07T22:00:00Z'),
    ]);
  });

  test('closure days on DST dates are 23 or 25 hours, and a midnight in a gap starts at the end of the gap', () => {
    const range = iv('2027-01-01T00:00:00Z', '2027-12-31T00:00:00Z');
    expect(closureIntervals(['2027-03-28'], 'Europe/Berlin', range)).toEqual([
      iv('2027-03-27T23:00:00Z', '2027-03-28T22:00:00Z'),
    ]);
    expect(closureIntervals(['2027-10-31'], 'Europe/Berlin', range)).toEqual([
      iv('2027-10-30T22:00:00Z', '2027-10-31T23:00:00Z'),
    ]);
    // Santiago: 2027-09-05 00:00 -04 does not exist (clocks jump to 01:00 -03 at 04:00Z)
    expect(closureIntervals(['2027-09-05'], 'America/Santiago', range)).toEqual([
      iv('2027-09-05T04:00:00Z', '2027-09-06T03:00:00Z'),
    ]);
    // Santiago: 2027-04-03 is 25 h (24:00 -03 becomes 23:00 -04 at 03:00Z on the 4th)
    expect(closureIntervals(['2027-04-03', '2027-04-04'], 'America/Santiago', range)).toEqual([
      iv('2027-04-03T03:00:00Z', '2027-04-05T04:00:00Z'),
    ]);
  });

  describe('bookings with buffers (UTC, Monday 2027-03-01 09:00-17:00)', () => {
    const utc: WorkSchedule = {
      timezone: 'UTC',
      weeklyHours: [{ day: 'mon', start: '09:00', end: '17:00' }],
      overrides: [],
    };
    const day = iv('2027-03-01T00:00:00Z', '2027-03-02T00:00:00Z');
    const booking = (start: string, end: string, bufferBeforeMin: number, bufferAfterMin: number) => ({
      ...iv(start, end),
      bufferBeforeMin,
      bufferAfterMin,
    });

    test('a booking removes its own time plus its buffer before and after', () => {
      const bookings = [booking('2027-03-01T10:00:00Z', '2027-03-01T10:30:00Z', 15, 10)];
      expect(availability({ ...none, schedule: utc, bookings }, day)).toEqual([
        iv('2027-03-01T09:00:00Z', '2027-03-01T09:45:00Z'),
        iv('2027-03-01T10:40:00Z', '2027-03-01T17:00:00Z'),
      ]);
    });

    test('a booking outside the range still blocks the part of its buffer inside it', () => {
      const bookings = [booking('2027-03-01T11:00:00Z', '2027-03-01T11:50:00Z', 0, 20)];
      expect(
        availability(
          { ...none, schedule: utc, bookings },
          iv('2027-03-01T12:00:00Z', '2027-03-01T18:00:00Z'),
        ),
      ).toEqual([iv('2027-03-01T12:10:00Z', '2027-03-01T17:00:00Z')]);
    });

    test('back-to-back bookings whose buffers overlap leave no sliver between them; negative buffers count as 0', () => {
      const bookings = [
        booking('2027-03-01T09:00:00Z', '2027-03-01T10:00:00Z', 0, 10),
        booking('2027-03-01T10:15:00Z', '2027-03-01T11:00:00Z', 5, -30),
      ];
      expect(availability({ ...none, schedule: utc, bookings }, day)).toEqual([
        iv('2027-03-01T11:00:00Z', '2027-03-01T17:00:00Z'),
      ]);
    });

    test('closures, time off and bookings combine; the result is sorted and merged', () => {
      const got = availability(
        {
          schedule: utc,
          closures: [iv('2027-03-01T16:00:00Z', '2027-03-02T00:00:00Z')],
          timeOff: [iv('2027-03-01T12:00:00Z', '2027-03-01T13:00:00Z')],
          bookings: [booking('2027-03-01T09:30:00Z', '2027-03-01T10:00:00Z', 0, 0)],
        },
        day,
      );
      expect(got).toEqual([
        iv('2027-03-01T09:00:00Z', '2027-03-01T09:30:00Z'),
        iv('2027-03-01T10:00:00Z', '2027-03-01T12:00:00Z'),
        iv('2027-03-01T13:00:00Z', '2027-03-01T16:00:00Z'),
      ]);
      expect(covers(got, iv('2027-03-01T10:00:00Z', '2027-03-01T11:00:00Z'))).toBe(true);
      expect(covers(got, iv('2027-03-01T11:30:00Z', '2027-03-01T12:30:00Z'))).toBe(false);
    });
  });

  test('on the spring-forward night in Berlin, availability starts at the end of the gap, never inside it', () => {
    const s: WorkSchedule = {
      timezone: 'Europe/Berlin',
      weeklyHours: [{ day: 'sun', start: '02:00', end: '04:00' }],
      overrides: [],
    };
    const booking = {
      ...iv('2027-03-28T01:00:00Z', '2027-03-28T01:30:00Z'),
      bufferBeforeMin: 0,
      bufferAfterMin: 0,
    };
    // 02:00 local does not exist: the shift is 03:00-04:00 CEST = 01:00Z-02:00Z, booked until 01:30Z
    expect(
      availability(
        { ...none, schedule: s, bookings: [booking] },
        iv('2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z'),
      ),
    ).toEqual([iv('2027-03-28T01:30:00Z', '2027-03-28T02:00:00Z')]);
  });
});
