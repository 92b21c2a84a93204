import { DateTime } from 'luxon';

/**
 * Facility days (`FACILITY_TIMEZONE`): an instant belongs to the date the facility's clocks show
 * at it, so an evening event is that evening's, not the next UTC day's, and a DST day simply holds
 * 23 or 25 hours of instants (Luxon does the zone arithmetic).
 */

/** The facility's date (YYYY-MM-DD) at an RFC 3339 instant. */
export function facilityDay(instant: string, zone: string): string {
  const at = DateTime.fromISO(instant, { setZone: true });
  if (!at.isValid) throw new Error(`not an RFC 3339 instant: ${instant}`);
  return at.setZone(zone).toISODate() as string;
}

/** The facility's date now. */
export const facilityToday = (now: Date, zone: string): string => facilityDay(now.toISOString(), zone);

/** The longest range a dashboard or report covers, days (a leap year). */
export const MAX_RANGE_DAYS = 366;

export interface DayRange {
  from: string;
  to: string;
}

export interface FieldProblem {
  path: string;
  message: string;
}

const dayCount = (range: DayRange): number =>
  DateTime.fromISO(range.to, { zone: 'UTC' }).diff(DateTime.fromISO(range.from, { zone: 'UTC' }), 'days')
    .days + 1;

/**
 * The range a request asks for: `from` defaults to `to`, else the facility's today, and `to` to
 * `from`; `to` before `from`, or more than MAX_RANGE_DAYS days, is a problem naming the query's
 * field.
 */
export function resolveRange(
  query: { from?: string; to?: string },
  today: string,
): { range: DayRange; problems: FieldProblem[] } {
  const from = query.from ?? query.to ?? today;
  const range = { from, to: query.to ?? from };
  const problems: FieldProblem[] = [];
  if (range.to < range.from) problems.push({ path: '/querystring/to', message: 'must not be before from' });
  else if (dayCount(range) > MAX_RANGE_DAYS)
    problems.push({ path: '/querystring/to', message: `the range may cover at most ${MAX_RANGE_DAYS} days` });
  return { range, problems };
}

/** Every date of a range, in order. */
export function daysOf(range: DayRange): string[] {
  const days: string[] = [];
  for (
    let d = DateTime.fromISO(range.from, { zone: 'UTC' });
    (d.toISODate() as string) <= range.to;
    d = d.plus({ days: 1 })
  )
    days.push(d.toISODate() as string);
  return days;
}
