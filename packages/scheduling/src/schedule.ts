import { clip } from './interval.js';
import {
  addDays,
  assertZone,
  formatDate,
  isoWeekday,
  localDateOf,
  localInstant,
  parseDate,
  parseHHMM,
  type LocalDate,
} from './local-time.js';
import { WEEKDAYS, type Interval, type Shift, type WorkSchedule } from './types.js';

/**
 * The real-time span of one shift on one local date: from the local start instant on `date` to
 * the local end instant on `date` (or on the next date when `end <= start`). DST gap/ambiguity
 * rules: see local-time.ts. Empty when both ends snap to the same instant (a shift wholly inside
 * a spring-forward gap).
 */
export function shiftInterval(date: LocalDate, shift: Shift, zone: string): Interval | undefined {
  const s = parseHHMM(shift.start);
  const e = parseHHMM(shift.end);
  if (s === undefined || e === undefined) {
    throw new RangeError(`invalid shift ${shift.start}-${shift.end} (want HH:MM)`);
  }
  const start = localInstant(date, s, zone);
  const end = localInstant(e <= s ? addDays(date, 1) : date, e, zone);
  return end > start ? { start, end } : undefined;
}

/**
 * Working time of a schedule within `range`: for every local date that can overlap the range
 * (from the day before it, for a shift crossing midnight into it), the date's override shifts if
 * it has an override, else the weekly hours of its weekday. Clipped to the range, merged, sorted.
 * Throws RangeError on an unknown zone or a malformed time (validate with `isValidSchedule`).
 */
export function workingIntervals(schedule: WorkSchedule, range: Interval): Interval[] {
  if (range.end <= range.start) return [];
  const zone = schedule.timezone;
  assertZone(zone);
  const weekly = new Map<number, Shift[]>();
  for (const w of schedule.weeklyHours) {
    const iso = WEEKDAYS.indexOf(w.day) + 1;
    if (iso === 0) throw new RangeError(`unknown weekday: ${w.day}`);
    weekly.set(iso, [...(weekly.get(iso) ?? []), w]);
  }
  const overrides = new Map<string, Shift[]>();
  for (const o of schedule.overrides) {
    const d = parseDate(o.date);
    if (d === undefined) throw new RangeError(`invalid override date: ${o.date}`);
    const key = formatDate(d);
    overrides.set(key, [...(overrides.get(key) ?? []), ...o.shifts]);
  }

  const out: Interval[] = [];
  const last = localDateOf(range.end, zone);
  const lastKey = formatDate(last);
  for (let date = addDays(localDateOf(range.start, zone), -1); ; date = addDays(date, 1)) {
    const key = formatDate(date);
    const shifts = overrides.get(key) ?? weekly.get(isoWeekday(date)) ?? [];
    for (const shift of shifts) {
      const iv = shiftInterval(date, shift, zone);
      if (iv !== undefined) out.push(iv);
    }
    if (key === lastKey) break;
  }
  return clip(out, range);
}

/**
 * Facility closures (holidays): each date is a whole local day in the FACILITY's `timezone`,
 * from its local midnight to the next local midnight (23 or 25 h on DST days; a midnight inside
 * a gap snaps to the end of the gap). Clipped to `range`, merged, sorted.
 */
export function closureIntervals(dates: readonly string[], timezone: string, range: Interval): Interval[] {
  assertZone(timezone);
  const out: Interval[] = [];
  for (const raw of dates) {
    const d = parseDate(raw);
    if (d === undefined) throw new RangeError(`invalid closure date: ${raw}`);
    out.push({ start: localInstant(d, 0, timezone), end: localInstant(addDays(d, 1), 0, timezone) });
  }
  return range.end <= range.start ? [] : clip(out, range);
}
