import { describe, expect, test } from 'vitest';
import {
  availability,
  covers,
  findSlots,
  openTime,
  intersect,
  merge,
  subtract,
  workingIntervals,
  type Booking,
  type Interval,
  type Shift,
  type WeeklyHours,
  type WorkSchedule,
} from '@hms/scheduling';

/**
 * Randomised checks (seeded, reproducible) against an oracle that uses only `Intl`, never Luxon:
 * an instant is working time iff its local wall clock reads inside a shift of its own date, or of
 * the previous date for a shift crossing midnight. That is the documented meaning, including the
 * gap rule (a boundary in a spring-forward gap snaps to the end of the gap). It differs only for
 * wall times that happen twice (fall back), which the oracle skips.
 */
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'America/Santiago',
  'Asia/Kolkata',
  'Europe/London',
  'UTC',
];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const; // index = getUTCDay()
const HOUR = 3_600_000;
const DAY_MS = 24 * HOUR;
// starts near the 2027 transitions of the zones above (and some plain dates)
const STARTS = [
  '2027-03-10',
  '2027-03-25',
  '2027-03-30',
  '2027-04-01',
  '2027-09-01',
  '2027-10-01',
  '2027-10-28',
  '2027-11-05',
  '2027-06-15',
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wall(t: number, zone: string): { date: string; minute: number; offset: number } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'longOffset',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(p.timeZoneName ?? '');
  const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return { date: `${p.year}-${p.month}-${p.day}`, minute: Number(p.hour) * 60 + Number(p.minute), offset };
}
const prevDate = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
const weekday = (date: string) => DAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] ?? 'sun';
const mins = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

function shiftsOf(s: WorkSchedule, date: string): Shift[] {
  const o = s.overrides.find((x) => x.date === date);
  return o ? o.shifts : s.weeklyHours.filter((w) => w.day === weekday(date));
}

function oracleWorking(s: WorkSchedule, t: number): boolean {
  const w = wall(t, s.timezone);
  const today = shiftsOf(s, w.date).some((x) => {
    const [a, b] = [mins(x.start), mins(x.end)];
    return b > a ? a <= w.minute && w.minute < b : a <= w.minute;
  });
  const fromYesterday = shiftsOf(s, prevDate(w.date)).some((x) => {
    const [a, b] = [mins(x.start), mins(x.end)];
    return b <= a && w.minute < b;
  });
  return today || fromYesterday;
}

/** Wall time that may happen twice: the offset drops within a few hours around t. */
const nearFallBack = (t: number, zone: string) =>
  wall(t - 3 * HOUR, zone).offset > wall(t + 3 * HOUR, zone).offset;
const inside = (list: Interval[], t: number) => list.some((i) => i.start <= t && t < i.end);

function randomCase(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  // wall times at or near the DST transitions of the zones above, often on Sundays (or Saturdays)
  const tricky = ['00:00', '00:30', '01:00', '01:30', '02:00', '02:15', '02:30', '02:45', '03:00', '23:30'];
  const time = () => {
    if (r() < 0.4) return pick(tricky);
    const m = Math.floor(r() * 48) * 30 + (r() < 0.2 ? 15 : 0);
    return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  };
  const weeklyHours: WeeklyHours[] = Array.from({ length: 1 + Math.floor(r() * 8) }, () => ({
    day: r() < 0.4 ? pick(['sat', 'sun'] as const) : pick(DAYS),
    start: time(),
    end: time(),
  }));
  const rangeStart = Date.parse(`${pick(STARTS)}T00:00:00Z`) + Math.floor(r() * 48) * 30 * 60_000;
  const range = { start: rangeStart, end: rangeStart + Math.floor(1 + r() * 31 * 24) * HOUR };
  const overrides = Array.from({ length: Math.floor(r() * 3) }, (_, k) => ({
    date: new Date(rangeStart + k * 3 * DAY_MS + Math.floor(r() * 3) * DAY_MS).toISOString().slice(0, 10),
    shifts: r() < 0.4 ? [] : [{ start: time(), end: time() }],
  }));
  const schedule: WorkSchedule = { timezone: pick(ZONES), weeklyHours, overrides };
  const span = () => {
    const start = range.start + Math.floor(r() * (range.end - range.start));
    return { start, end: start + Math.floor(1 + r() * 12) * 15 * 60_000 };
  };
  const timeOff = Array.from({ length: Math.floor(r() * 4) }, span);
  const bookings: Booking[] = Array.from({ length: Math.floor(r() * 20) }, () => ({
    ...span(),
    bufferBeforeMin: Math.floor(r() * 4) * 5,
    bufferAfterMin: Math.floor(r() * 4) * 5,
  }));
  return { schedule, range, timeOff, bookings };
}

describe('availability properties (seeded random schedules across DST in 7 zones)', () => {
  const CASES = 150;

  test('working time matches the Intl wall-clock oracle at random instants and around every boundary', () => {
    const r = rng(11);
    for (let c = 0; c < CASES; c++) {
      const { schedule, range } = randomCase(r);
      const working = workingIntervals(schedule, range);
      const probes = Array.from(
        { length: 60 },
        () => range.start + Math.floor(r() * (range.end - range.start)),
      );
      for (const i of working) probes.push(i.start, i.end - 1, i.start - 1, i.end);
      for (const t of probes) {
        if (t < range.start || t >= range.end || nearFallBack(t, schedule.timezone)) continue;
        expect(
          inside(working, t),
          `case ${c} ${JSON.stringify(schedule)} at ${new Date(t).toISOString()}`,
        ).toBe(oracleWorking(schedule, t));
      }
    }
  });

  test('availability is sorted, merged, inside the range and the working time, and disjoint from busy time', () => {
    const r = rng(7);
    for (let c = 0; c < CASES; c++) {
      const { schedule, range, timeOff, bookings } = randomCase(r);
      const free = availability({ schedule, closures: [], timeOff, bookings }, range);
      expect(free).toEqual(merge(free));
      for (const i of free) {
        expect(i.start).toBeGreaterThanOrEqual(range.start);
        expect(i.end).toBeLessThanOrEqual(range.end);
      }
      expect(subtract(free, workingIntervals(schedule, range))).toEqual([]);
      const busy = [
        ...timeOff,
        ...bookings.map((b) => ({
          start: b.start - b.bufferBeforeMin * 60_000,
          end: b.end + b.bufferAfterMin * 60_000,
        })),
      ];
      expect(intersect(free, busy)).toEqual([]);
    }
  });

  test('splitting the range anywhere gives the same working time (shifts from the day before are not lost)', () => {
    const r = rng(3);
    for (let c = 0; c < CASES; c++) {
      const { schedule, range } = randomCase(r);
      const cut = range.start + Math.floor(r() * (range.end - range.start));
      const whole = workingIntervals(schedule, range);
      const parts = merge([
        ...workingIntervals(schedule, { start: range.start, end: cut }),
        ...workingIntervals(schedule, { start: cut, end: range.end }),
      ]);
      expect(parts).toEqual(whole);
    }
  });
});

describe('slot finder properties', () => {
  test('offers exactly the grid points a brute-force check accepts: inside open time, clear of every busy span', () => {
    const r = rng(5);
    for (let c = 0; c < 120; c++) {
      const { schedule, range, timeOff, bookings } = randomCase(r);
      const q = {
        range,
        durationMin: (1 + Math.floor(r() * 8)) * 15,
        bufferBeforeMin: Math.floor(r() * 3) * 5,
        bufferAfterMin: Math.floor(r() * 3) * 5,
        gridMin: r() < 0.5 ? 15 : 30,
      };
      const slots = findSlots({ schedule, closures: [], timeOff, bookings }, q).map((s) => s.start);
      const grid = q.gridMin * 60_000;
      // open time (working − time off) is checked on its own above; here: the grid and the buffers
      const open = openTime(
        { schedule, closures: [], timeOff },
        { start: range.start - DAY_MS, end: range.end + DAY_MS },
      );
      const expected: number[] = [];
      for (let t = Math.ceil(range.start / grid) * grid; t < range.end; t += grid) {
        const slot = { start: t, end: t + q.durationMin * 60_000 };
        if (!covers(open, slot)) continue;
        const spanStart = t - q.bufferBeforeMin * 60_000;
        const spanEnd = slot.end + q.bufferAfterMin * 60_000;
        const clash = bookings.some(
          (b) =>
            b.start - b.bufferBeforeMin * 60_000 < spanEnd && spanStart < b.end + b.bufferAfterMin * 60_000,
        );
        if (!clash) expected.push(t);
      }
      expect(slots, `case ${c}`).toEqual(expected);
    }
  });
});
