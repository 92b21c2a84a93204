import { describe, expect, test } from 'vitest';
import { checkRecurrence, findSlots, occurrences, slotRuleBroken, type WorkSchedule } from '@hms/scheduling';
import { at, iv } from './helpers.js';

describe('recurrence', () => {
  test('a weekly 09:00 in New York keeps its wall time across the March DST change', () => {
    // 2027-03-08 09:00 EST = 14:00Z; DST starts Sun 2027-03-14; 03-15 and 03-22 09:00 EDT = 13:00Z
    const first = iv('2027-03-08T14:00:00Z', '2027-03-08T14:30:00Z');
    const rule = { frequency: 'weekly' as const, count: 3, timezone: 'America/New_York' };
    expect(checkRecurrence(rule, first.start)).toEqual([]);
    expect(occurrences(rule, first)).toEqual([
      iv('2027-03-08T14:00:00Z', '2027-03-08T14:30:00Z'),
      iv('2027-03-15T13:00:00Z', '2027-03-15T13:30:00Z'),
      iv('2027-03-22T13:00:00Z', '2027-03-22T13:30:00Z'),
    ]);
  });

  test('every second day until a local date, that date included', () => {
    // Sydney, 2027-04-03 10:00 AEDT (+11) = 2027-04-02T23:00Z; DST ends Sun 2027-04-04 03:00 → 02:00
    // 04-05 10:00 AEST (+10) = 04-05T00:00Z; 04-07 10:00 = 04-07T00:00Z
    const first = iv('2027-04-02T23:00:00Z', '2027-04-03T00:00:00Z');
    const rule = {
      frequency: 'daily' as const,
      interval: 2,
      until: '2027-04-07',
      timezone: 'Australia/Sydney',
    };
    expect(checkRecurrence(rule, first.start)).toEqual([]);
    expect(occurrences(rule, first).map((o) => new Date(o.start).toISOString())).toEqual([
      '2027-04-02T23:00:00.000Z',
      '2027-04-05T00:00:00.000Z',
      '2027-04-07T00:00:00.000Z',
    ]);
  });

  test('a wall time inside the spring-forward gap starts at the transition instant', () => {
    // Berlin: Sun 2027-03-28 02:00 CET → 03:00 CEST at 01:00Z; daily 02:30 from 03-27 (01:30Z)
    const first = iv('2027-03-27T01:30:00Z', '2027-03-27T02:00:00Z');
    const rule = { frequency: 'daily' as const, count: 3, timezone: 'Europe/Berlin' };
    expect(occurrences(rule, first).map((o) => new Date(o.start).toISOString())).toEqual([
      '2027-03-27T01:30:00.000Z',
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
  });

  test('refuses a rule without an end, with both ends, past 52 occurrences, or in an unknown zone', () => {
    const start = at('2027-01-04T09:00:00Z');
    expect(checkRecurrence({ frequency: 'daily', timezone: 'UTC' }, start)).toEqual([
      { path: 'count', message: 'a recurrence needs an end: count or until' },
    ]);
    expect(
      checkRecurrence({ frequency: 'daily', count: 2, until: '2027-02-01', timezone: 'UTC' }, start),
    ).toEqual([{ path: 'until', message: 'give count or until, not both' }]);
    expect(checkRecurrence({ frequency: 'daily', count: 53, timezone: 'UTC' }, start)).toEqual([
      { path: 'count', message: 'must be between 1 and 52' },
    ]);
    // 2027-01-04 … 2027-02-24 is 52 days; one more is refused
    expect(checkRecurrence({ frequency: 'daily', until: '2027-02-24', timezone: 'UTC' }, start)).toEqual([]);
    expect(checkRecurrence({ frequency: 'daily', until: '2027-02-25', timezone: 'UTC' }, start)).toEqual([
      { path: 'until', message: 'a series has at most 52 occurrences' },
    ]);
    expect(checkRecurrence({ frequency: 'weekly', count: 2, timezone: 'Mars/Olympus' }, start)).toEqual([
      { path: 'timezone', message: 'must be a known IANA time zone' },
    ]);
    expect(checkRecurrence({ frequency: 'weekly', until: '2026-12-01', timezone: 'UTC' }, start)).toEqual([
      { path: 'until', message: 'must not be before the first start' },
    ]);
  });
});

describe('slots', () => {
  const utcMornings: WorkSchedule = {
    timezone: 'UTC',
    weeklyHours: [{ day: 'mon', start: '09:00', end: '12:00' }],
    overrides: [],
  };
  const monday = iv('2027-01-04T00:00:00Z', '2027-01-05T00:00:00Z');
  const none = { closures: [], timeOff: [] };

  test('a booking with a 15-minute after-buffer blocks the grid points whose span touches it', () => {
    const booking = {
      ...iv('2027-01-04T10:00:00Z', '2027-01-04T10:30:00Z'),
      bufferBeforeMin: 0,
      bufferAfterMin: 15,
    };
    const slots = findSlots(
      { ...none, schedule: utcMornings, bookings: [booking] },
      { range: monday, durationMin: 30, bufferBeforeMin: 0, bufferAfterMin: 15 },
    );
    // busy 10:00–10:45; a 30-minute slot needs 45 minutes clear of it (its own buffer after)
    expect(slots.map((s) => new Date(s.start).toISOString().slice(11, 16))).toEqual([
      '09:00',
      '09:15',
      '10:45',
      '11:00',
      '11:15',
      '11:30',
    ]);
  });

  test('a before-buffer keeps the first slot after a booking later', () => {
    const booking = {
      ...iv('2027-01-04T10:00:00Z', '2027-01-04T10:30:00Z'),
      bufferBeforeMin: 0,
      bufferAfterMin: 0,
    };
    const slots = findSlots(
      { ...none, schedule: utcMornings, bookings: [booking] },
      { range: monday, durationMin: 60, bufferBeforeMin: 10, bufferAfterMin: 0, gridMin: 30 },
    );
    // 09:00 (span 08:50–10:00) fits; 10:30 would start its buffer at 10:20, inside the booking
    expect(slots.map((s) => new Date(s.start).toISOString().slice(11, 16))).toEqual(['09:00', '11:00']);
  });

  test('names the rule a slot breaks', () => {
    const timeOff = [iv('2027-01-04T11:00:00Z', '2027-01-04T12:00:00Z')];
    const closures = [iv('2027-01-11T00:00:00Z', '2027-01-12T00:00:00Z')];
    const input = { schedule: utcMornings, timeOff, closures };
    expect(slotRuleBroken(input, iv('2027-01-04T09:00:00Z', '2027-01-04T10:00:00Z'))).toBeUndefined();
    expect(slotRuleBroken(input, iv('2027-01-04T11:30:00Z', '2027-01-04T12:00:00Z'))).toBe('time-off');
    expect(slotRuleBroken(input, iv('2027-01-04T11:45:00Z', '2027-01-04T12:15:00Z'))).toBe(
      'outside-working-hours',
    );
    expect(slotRuleBroken(input, iv('2027-01-11T09:00:00Z', '2027-01-11T09:30:00Z'))).toBe('facility-closed');
    expect(slotRuleBroken(input, iv('2027-01-05T09:00:00Z', '2027-01-05T09:30:00Z'))).toBe(
      'outside-working-hours',
    );
  });
});
