import type { Recurrence } from '@hms/contracts';
import { checkRecurrence, type Interval } from '@hms/scheduling';

/** Pure rules of a requested slot: no I/O here (STYLE.md §3). */

export interface FieldProblem {
  path: string;
  message: string;
}

const MINUTE = 60_000;
const DAY_MS = 86_400_000;

/**
 * The interval asked for, from `start` and an optional `end` (default: `defaultMinutes` later),
 * with every problem of it at once: an end not after the start, a duration of 24 hours or more,
 * a start more than 24 hours before `now`. Paths are JSON pointers under `prefix` (`/body`).
 */
export function requestedSlot(
  start: string,
  end: string | undefined,
  defaultMinutes: number,
  now: Date,
  prefix = '/body',
): { slot: Interval; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const s = Date.parse(start);
  const e = end === undefined ? s + defaultMinutes * MINUTE : Date.parse(end);
  if (Number.isNaN(e)) problems.push({ path: `${prefix}/end`, message: 'must be an RFC 3339 date-time' });
  else if (e <= s) problems.push({ path: `${prefix}/end`, message: 'must be after start' });
  else if (e - s >= DAY_MS)
    problems.push({ path: `${prefix}/end`, message: 'an appointment lasts less than 24 hours' });
  if (s < now.getTime() - DAY_MS)
    problems.push({ path: `${prefix}/start`, message: 'must not be more than 24 hours in the past' });
  return { slot: { start: s, end: e }, problems };
}

/** The recurrence's problems as pointers under `/body/recurrence`. */
export function recurrenceProblems(rule: Recurrence, timezone: string, firstStart: number): FieldProblem[] {
  return checkRecurrence({ ...rule, timezone: rule.timezone ?? timezone }, firstStart).map((p) => ({
    path: `/body/recurrence/${p.path}`,
    message: p.message,
  }));
}
