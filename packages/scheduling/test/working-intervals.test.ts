import { describe, expect, test } from 'vitest';
import {
  localInstant,
  MAX_RANGE_MS,
  workingIntervals,
  type WeeklyHours,
  type WorkSchedule,
} from '@hms/scheduling';
import { at, hours, iv } from './helpers.js';

const schedule = (
  timezone: string,
  weeklyHours: WeeklyHours[],
  overrides: WorkSchedule['overrides'] = [],
) => ({
  timezone,
  weeklyHours,
  overrides,
});
const weekdays9to5 = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({
  day,
  start: '09:00',
  end: '17:00',
}));

describe('workingIntervals: plain time', () => {
  test('a plain Monday-Friday 09:00-17:00 week in UTC gives five 8-hour intervals', () => {
    const got = workingIntervals(
      schedule('UTC', weekdays9to5),
      iv('2027-03-01T00:00:00Z', '2027-03-08T00:00:00Z'),
    );
    expect(got).toEqual([
      iv('2027-03-01T09:00:00Z', '2027-03-01T17:00:00Z'),
      iv('2027-03-02T09:00:00Z', '2027-03-02T17:00:00Z'),
      iv('2027-03-03T09:00:00Z', '2027-03-03T17:00:00Z'),
      iv('2027-03-04T09:00:00Z', '2027-03-04T17:00:00Z'),
      iv('2027-03-05T09:00:00Z', '2027-03-05T17:00:00Z'),
    ]);
  });

  test('results are clipped to the range', () => {
    const got = workingIntervals(
      schedule('UTC', weekdays9to5),
      iv('2027-03-01T12:00:00Z', '2027-03-02T10:00:00Z'),
    );
    expect(got).toEqual([
      iv('2027-03-01T12:00:00Z', '2027-03-01T17:00:00Z'),
      iv('2027-03-02T09:00:00Z', '2027-03-02T10:00:00Z'),
    ]);
  });

  test('an empty or inverted range gives nothing', () => {
    expect(
      workingIntervals(schedule('UTC', weekdays9to5), iv('2027-03-01T12:00:00Z', '2027-03-01T12:00:00Z')),
    ).toEqual([]);
    expect(
      workingIntervals(schedule('UTC', weekdays9to5), iv('2027-03-02T00:00:00Z', '2027-03-01T00:00:00Z')),
    ).toEqual([]);
  });

  test('00:00-00:00 is a whole day, and consecutive whole days merge into one interval', () => {
    const s = schedule('UTC', [
      { day: 'mon', start: '00:00', end: '00:00' },
      { day: 'tue', start: '00:00', end: '00:00' },
    ]);
    expect(workingIntervals(s, iv('2027-03-01T00:00:00Z', '2027-03-08T00:00:00Z'))).toEqual([
      iv('2027-03-01T00:00:00Z', '2027-03-03T00:00:00Z'),
    ]);
  });

  test('a night shift 21:00-03:00 belongs to the day it starts and spills into a range that begins the next day', () => {
    const s = schedule('Europe/Berlin', [{ day: 'mon', start: '21:00', end: '03:00' }]);
    // Mon 2027-01-04 21:00 CET = 20:00Z … Tue 03:00 CET = 02:00Z; the range starts Tue 00:00Z
    expect(workingIntervals(s, iv('2027-01-05T00:00:00Z', '2027-01-06T00:00:00Z'))).toEqual([
      iv('2027-01-05T00:00:00Z', '2027-01-05T02:00:00Z'),
    ]);
  });

  test('MAX_RANGE_MS is 31 days', () => {
    expect(MAX_RANGE_MS).toBe(2_678_400_000);
  });
});

describe('workingIntervals: Europe/Berlin DST', () => {
  const weekend = (start: string, end: string) =>
    schedule('Europe/Berlin', [
      { day: 'sat', start, end },
      { day: 'sun', start, end },
    ]);

  test('spring forward 2027-03-28: 01:00-05:00 on the short night is 3 hours of real time', () => {
    const got = workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sun', start: '01:00', end: '05:00' }]),
      iv('2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z'),
    );
    expect(got).toEqual([iv('2027-03-28T00:00:00Z', '2027-03-28T03:00:00Z')]);
  });

  test('spring forward: 09:00-17:00 moves from 08:00Z (CET) on Saturday to 07:00Z (CEST) on Sunday', () => {
    expect(
      workingIntervals(weekend('09:00', '17:00'), iv('2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z')),
    ).toEqual([
      iv('2027-03-27T08:00:00Z', '2027-03-27T16:00:00Z'),
      iv('2027-03-28T07:00:00Z', '2027-03-28T15:00:00Z'),
    ]);
  });

  test('fall back 2027-10-31: 01:00-03:00 on the long night is 3 hours of real time', () => {
    const got = workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sun', start: '01:00', end: '03:00' }]),
      iv('2027-10-30T00:00:00Z', '2027-11-01T00:00:00Z'),
    );
    expect(got).toEqual([iv('2027-10-30T23:00:00Z', '2027-10-31T02:00:00Z')]);
    expect(got.map(hours)).toEqual([3]);
  });

  test('fall back: a boundary in the repeated hour means its first occurrence (02:30 CEST = 00:30Z)', () => {
    const got = workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sun', start: '02:30', end: '04:00' }]),
      iv('2027-10-30T00:00:00Z', '2027-11-01T00:00:00Z'),
    );
    expect(got).toEqual([iv('2027-10-31T00:30:00Z', '2027-10-31T03:00:00Z')]);
  });

  test('fall back: a night shift Saturday 22:00-06:00 across the repeated hour is 9 hours', () => {
    const got = workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sat', start: '22:00', end: '06:00' }]),
      iv('2027-10-30T00:00:00Z', '2027-11-01T00:00:00Z'),
    );
    expect(got).toEqual([iv('2027-10-30T20:00:00Z', '2027-10-31T05:00:00Z')]);
  });
});

describe('workingIntervals: spring-forward gap boundaries (Europe/Berlin 2027-03-28, 02:00-03:00 local does not exist)', () => {
  const sunday = (start: string, end: string) =>
    workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sun', start, end }]),
      iv('2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z'),
    );

  test('a start inside the gap (02:30) snaps to the first instant after it, 03:00 CEST = 01:00Z (not 03:30)', () => {
    expect(sunday('02:30', '06:00')).toEqual([iv('2027-03-28T01:00:00Z', '2027-03-28T04:00:00Z')]);
    expect(localInstant({ year: 2027, month: 3, day: 28 }, 150, 'Europe/Berlin')).toBe(
      at('2027-03-28T01:00:00Z'),
    );
  });

  test('an end inside the gap (02:30) also snaps to 01:00Z: 00:00-02:30 is 2 hours', () => {
    expect(sunday('00:00', '02:30')).toEqual([iv('2027-03-27T23:00:00Z', '2027-03-28T01:00:00Z')]);
  });

  test('a shift wholly inside the gap (02:05-02:55) yields no interval at all', () => {
    expect(sunday('02:05', '02:55')).toEqual([]);
  });

  test('a night shift Saturday 22:00-02:30 ends when the clocks jump', () => {
    const got = workingIntervals(
      schedule('Europe/Berlin', [{ day: 'sat', start: '22:00', end: '02:30' }]),
      iv('2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z'),
    );
    expect(got).toEqual([iv('2027-03-27T21:00:00Z', '2027-03-28T01:00:00Z')]);
  });
});

describe('workingIntervals: America/New_York DST', () => {
  test('spring forward 2027-03-14: Sunday 00:00-06:00 is 5 hours, and 09:00 moves from 14:00Z to 13:00Z', () => {
    const s = schedule('America/New_York', [
      { day: 'sat', start: '09:00', end: '17:00' },
      { day: 'sun', start: '00:00', end: '06:00' },
      { day: 'mon', start: '09:00', end: '17:00' },
    ]);
    expect(workingIntervals(s, iv('2027-03-13T00:00:00Z', '2027-03-16T00:00:00Z'))).toEqual([
      iv('2027-03-13T14:00:00Z', '2027-03-13T22:00:00Z'),
      iv('2027-03-14T05:00:00Z', '2027-03-14T10:00:00Z'),
      iv('2027-03-15T13:00:00Z', '2027-03-15T21:00:00Z'),
    ]);
  });

  test('spring forward: a shift starting at 02:30 (in the gap) starts at 03:00 EDT = 07:00Z', () => {
    const s = schedule('America/New_York', [{ day: 'sun', start: '02:30', end: '08:00' }]);
    expect(workingIntervals(s, iv('2027-03-14T00:00:00Z', '2027-03-15T00:00:00Z'))).toEqual([
      iv('2027-03-14T07:00:00Z', '2027-03-14T12:00:00Z'),
    ]);
  });

  test('fall back 2027-11-07: a night shift Saturday 22:00-02:00 is 5 hours; 01:30 means 01:30 EDT', () => {
    const s = schedule('America/New_York', [
      { day: 'sat', start: '22:00', end: '02:00' },
      { day: 'sun', start: '01:30', end: '01:45' },
    ]);
    expect(workingIntervals(s, iv('2027-11-06T00:00:00Z', '2027-11-08T00:00:00Z'))).toEqual([
      iv('2027-11-07T02:00:00Z', '2027-11-07T07:00:00Z'),
    ]);
    const sunday = schedule('America/New_York', [{ day: 'sun', start: '01:30', end: '01:45' }]);
    expect(workingIntervals(sunday, iv('2027-11-06T00:00:00Z', '2027-11-08T00:00:00Z'))).toEqual([
      iv('2027-11-07T05:30:00Z', '2027-11-07T05:45:00Z'),
    ]);
  });
});

describe('workingIntervals: southern hemisphere', () => {
  test('Australia/Sydney DST ends 2027-04-04 (03:00 AEDT -> 02:00 AEST at 16:00Z): Sunday 00:00-06:00 is 7 hours', () => {
    const s = schedule('Australia/Sydney', [{ day: 'sun', start: '00:00', end: '06:00' }]);
    expect(workingIntervals(s, iv('2027-04-03T00:00:00Z', '2027-04-05T00:00:00Z'))).toEqual([
      iv('2027-04-03T13:00:00Z', '2027-04-03T20:00:00Z'),
    ]);
  });

  test('Australia/Sydney DST starts 2027-10-03 (02:00 AEST -> 03:00 AEDT at 16:00Z): 00:00-06:00 is 5 hours, 02:30 snaps to 16:00Z', () => {
    const s = schedule('Australia/Sydney', [{ day: 'sun', start: '00:00', end: '06:00' }]);
    expect(workingIntervals(s, iv('2027-10-02T00:00:00Z', '2027-10-04T00:00:00Z'))).toEqual([
      iv('2027-10-02T14:00:00Z', '2027-10-02T19:00:00Z'),
    ]);
    const gap = schedule('Australia/Sydney', [{ day: 'sun', start: '02:30', end: '09:00' }]);
    expect(workingIntervals(gap, iv('2027-10-02T00:00:00Z', '2027-10-04T00:00:00Z'))).toEqual([
      iv('2027-10-02T16:00:00Z', '2027-10-02T22:00:00Z'),
    ]);
  });

  test('America/Santiago: Saturday 2027-04-03 20:00-00:00 runs into the repeated hour (24:00 -03 -> 23:00 -04) and is 5 hours', () => {
    const s = schedule('America/Santiago', [{ day: 'sat', start: '20:00', end: '00:00' }]);
    expect(workingIntervals(s, iv('2027-04-03T00:00:00Z', '2027-04-05T00:00:00Z'))).toEqual([
      iv('2027-04-03T23:00:00Z', '2027-04-04T04:00:00Z'),
    ]);
  });

  test('America/Santiago: midnight of 2027-09-05 does not exist, so a shift from 00:00 starts at 01:00 -03 = 04:00Z', () => {
    const s = schedule('America/Santiago', [{ day: 'sun', start: '00:00', end: '08:00' }]);
    expect(workingIntervals(s, iv('2027-09-04T00:00:00Z', '2027-09-06T00:00:00Z'))).toEqual([
      iv('2027-09-05T04:00:00Z', '2027-09-05T11:00:00Z'),
    ]);
  });
});

describe('workingIntervals: date overrides', () => {
  const range = iv('2027-03-01T00:00:00Z', '2027-03-08T00:00:00Z');

  test('an override adds hours on a day without weekly hours and replaces the hours of another', () => {
    const s = schedule('UTC', weekdays9to5, [
      { date: '2027-03-06', shifts: [{ start: '10:00', end: '12:00' }] },
      {
        date: '2027-03-04',
        shifts: [
          { start: '12:00', end: '14:00' },
          { start: '15:00', end: '16:00' },
        ],
      },
    ]);
    const got = workingIntervals(s, range);
    expect(got).toContainEqual(iv('2027-03-06T10:00:00Z', '2027-03-06T12:00:00Z'));
    expect(
      got.filter((i) => i.start >= at('2027-03-04T00:00:00Z') && i.end <= at('2027-03-05T00:00:00Z')),
    ).toEqual([
      iv('2027-03-04T12:00:00Z', '2027-03-04T14:00:00Z'),
      iv('2027-03-04T15:00:00Z', '2027-03-04T16:00:00Z'),
    ]);
    expect(got).toHaveLength(7);
  });

  test('an override with no shifts closes the day', () => {
    const s = schedule('UTC', weekdays9to5, [{ date: '2027-03-03', shifts: [] }]);
    const got = workingIntervals(s, range);
    expect(got).toHaveLength(4);
    expect(got).not.toContainEqual(iv('2027-03-03T09:00:00Z', '2027-03-03T17:00:00Z'));
  });

  test("closing Monday removes Monday's night shift; closing Tuesday keeps its tail on Tuesday morning", () => {
    const night = [{ day: 'mon' as const, start: '21:00', end: '03:00' }];
    const r = iv('2027-03-01T00:00:00Z', '2027-03-03T00:00:00Z');
    expect(workingIntervals(schedule('UTC', night, [{ date: '2027-03-01', shifts: [] }]), r)).toEqual([]);
    expect(workingIntervals(schedule('UTC', night, [{ date: '2027-03-02', shifts: [] }]), r)).toEqual([
      iv('2027-03-01T21:00:00Z', '2027-03-02T03:00:00Z'),
    ]);
  });
});
