import {
  addDays,
  formatDate,
  isValidZone,
  localDateOf,
  localInstant,
  parseDate,
  wallTime,
} from './local-time.js';
import type { Interval, ScheduleProblem } from './types.js';

/** Most occurrences one series may have. */
export const MAX_OCCURRENCES = 52;

export interface RecurrenceRule {
  frequency: 'daily' | 'weekly';
  /** Every `interval` days or weeks (default 1). */
  interval?: number | undefined;
  /** Occurrences, the first included. */
  count?: number | undefined;
  /** The last local date an occurrence may fall on (YYYY-MM-DD), or the last instant it may start at (RFC 3339). */
  until?: string | undefined;
  /** The zone whose wall time the occurrences keep (IANA). */
  timezone: string;
}

/** What is wrong with a rule for a first occurrence, as paths inside the rule (`count`, `until`). */
export function checkRecurrence(rule: RecurrenceRule, firstStart: number): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  if (!isValidZone(rule.timezone))
    problems.push({ path: 'timezone', message: 'must be a known IANA time zone' });
  const interval = rule.interval ?? 1;
  if (!Number.isInteger(interval) || interval < 1)
    problems.push({ path: 'interval', message: 'must be a whole number of at least 1' });
  if (rule.count === undefined && rule.until === undefined)
    problems.push({ path: 'count', message: 'a recurrence needs an end: count or until' });
  if (rule.count !== undefined && rule.until !== undefined)
    problems.push({ path: 'until', message: 'give count or until, not both' });
  if (rule.count !== undefined && (rule.count < 1 || rule.count > MAX_OCCURRENCES))
    problems.push({ path: 'count', message: `must be between 1 and ${MAX_OCCURRENCES}` });
  if (rule.until !== undefined) {
    const limit = untilLimit(rule.until, rule.timezone);
    if (limit === undefined)
      problems.push({ path: 'until', message: 'must be a date or an RFC 3339 instant' });
    else if (limit < firstStart)
      problems.push({ path: 'until', message: 'must not be before the first start' });
  }
  if (
    problems.length === 0 &&
    rule.until !== undefined &&
    expand(rule, firstStart, MAX_OCCURRENCES + 1).length > MAX_OCCURRENCES
  )
    problems.push({ path: 'until', message: `a series has at most ${MAX_OCCURRENCES} occurrences` });
  return problems;
}

/** The last instant an occurrence may start at: the end of a local date, or the instant itself. */
function untilLimit(until: string, zone: string): number | undefined {
  const date = parseDate(until);
  if (date) {
    if (!isValidZone(zone)) return undefined;
    return localInstant(addDays(date, 1), 0, zone) - 1;
  }
  const ms = Date.parse(until);
  return /^\d{4}-\d{2}-\d{2}T/.test(until) && !Number.isNaN(ms) ? ms : undefined;
}

function expand(rule: RecurrenceRule, firstStart: number, most: number): number[] {
  const zone = rule.timezone;
  const stepDays = (rule.interval ?? 1) * (rule.frequency === 'weekly' ? 7 : 1);
  const sinceMidnight = ((wallTime(firstStart, zone) % 86_400_000) + 86_400_000) % 86_400_000;
  const minutes = Math.floor(sinceMidnight / 60_000);
  const rest = sinceMidnight % 60_000;
  const firstDate = localDateOf(firstStart, zone);
  const limit = rule.until !== undefined ? untilLimit(rule.until, zone) : undefined;
  const count = Math.min(rule.count ?? most, most);
  const starts: number[] = [firstStart];
  for (let k = 1; starts.length < count; k += 1) {
    const start = localInstant(addDays(firstDate, k * stepDays), minutes, zone) + rest;
    if (limit !== undefined && start > limit) break;
    starts.push(start);
  }
  return starts;
}

/**
 * The occurrences of a series whose first one is `first`: each at the first occurrence's local
 * wall time in the rule's zone on every `interval`-th day or week (so 09:00 stays 09:00 across a
 * DST change; a wall time that falls in a spring-forward gap starts at the transition instant,
 * localInstant's rule), each as long as the first. Assumes `checkRecurrence` found nothing.
 */
export function occurrences(rule: RecurrenceRule, first: Interval): Interval[] {
  const duration = first.end - first.start;
  return expand(rule, first.start, MAX_OCCURRENCES).map((start) => ({ start, end: start + duration }));
}

/** The local date of an occurrence, for messages ("2027-03-29"). */
export function occurrenceDate(start: number, zone: string): string {
  return formatDate(localDateOf(start, zone));
}
