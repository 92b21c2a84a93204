import { describe, expect, test } from 'vitest';
import { closureIntervals, isValidSchedule, workingIntervals, type WorkSchedule } from '@hms/scheduling';
import { iv } from './helpers.js';

const valid: WorkSchedule = {
  timezone: 'Europe/Berlin',
  weeklyHours: [
    { day: 'mon', start: '09:00', end: '12:00' },
    { day: 'mon', start: '12:00', end: '17:00' },
    { day: 'tue', start: '21:00', end: '03:00' },
    { day: 'wed', start: '03:00', end: '09:00' },
  ],
  overrides: [{ date: '2027-12-24', shifts: [] }],
};
const paths = (s: unknown) => isValidSchedule(s as WorkSchedule).map((p) => p.path);

describe('isValidSchedule', () => {
  test('a schedule with touching shifts and a night shift ending where the next begins has no problems', () => {
    expect(isValidSchedule(valid)).toEqual([]);
  });

  test('an unknown IANA zone or a fixed offset is refused', () => {
    expect(paths({ ...valid, timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(paths({ ...valid, timezone: '+01:00' })).toEqual(['timezone']);
    expect(paths({ ...valid, timezone: '' })).toEqual(['timezone']);
  });

  test('times that are not HH:MM (00:00-23:59) and unknown weekdays are named by path', () => {
    const s = {
      ...valid,
      weeklyHours: [
        { day: 'mon', start: '9:00', end: '17:00' },
        { day: 'tue', start: '09:00', end: '24:00' },
        { day: 'funday', start: '09:00', end: '12:60' },
      ],
    };
    expect(paths(s)).toEqual([
      'weeklyHours[0].start',
      'weeklyHours[1].end',
      'weeklyHours[2].day',
      'weeklyHours[2].end',
    ]);
  });

  test('overlapping shifts of one day are reported on the later one, naming the earlier', () => {
    const problems = isValidSchedule({
      ...valid,
      weeklyHours: [
        { day: 'mon', start: '09:00', end: '13:00' },
        { day: 'mon', start: '12:00', end: '17:00' },
      ],
    });
    expect(problems).toEqual([
      { path: 'weeklyHours[1]', message: expect.stringContaining('weeklyHours[0]') as string },
    ]);
  });

  test('a night shift overlapping the next morning, and Sunday night overlapping Monday, are overlaps', () => {
    expect(
      paths({
        ...valid,
        weeklyHours: [
          { day: 'tue', start: '21:00', end: '03:00' },
          { day: 'wed', start: '02:00', end: '10:00' },
          { day: 'sun', start: '22:00', end: '02:00' },
          { day: 'mon', start: '00:00', end: '08:00' },
        ],
      }),
    ).toEqual(['weeklyHours[1]', 'weeklyHours[3]']);
  });

  test('bad and duplicate override dates and overlapping override shifts are reported', () => {
    const s = {
      ...valid,
      overrides: [
        { date: '2027-02-30', shifts: [] },
        { date: '2027-05-01', shifts: [] },
        {
          date: '2027-05-01',
          shifts: [
            { start: '08:00', end: '12:00' },
            { start: '11:00', end: '13:00' },
          ],
        },
        { date: '2027-05-02' },
      ],
    };
    expect(paths(s)).toEqual([
      'overrides[0].date',
      'overrides[2].date',
      'overrides[2].shifts[1]',
      'overrides[3].shifts',
    ]);
  });

  test('a non-object schedule or missing arrays are problems, not exceptions', () => {
    expect(paths(null)).toEqual(['']);
    expect(paths({ timezone: 'UTC' })).toEqual(['weeklyHours', 'overrides']);
  });

  test('the computations refuse what validation would report instead of guessing', () => {
    const range = iv('2027-03-01T00:00:00Z', '2027-03-02T00:00:00Z');
    expect(() => workingIntervals({ ...valid, timezone: 'Mars/Olympus' }, range)).toThrow(RangeError);
    expect(() =>
      workingIntervals({ ...valid, weeklyHours: [{ day: 'mon', start: '9', end: '10:00' }] }, range),
    ).toThrow(RangeError);
    expect(() => closureIntervals(['2027-02-30'], 'UTC', range)).toThrow(RangeError);
    expect(() => closureIntervals(['2027-03-01'], 'Nowhere/City', range)).toThrow(RangeError);
  });
});
