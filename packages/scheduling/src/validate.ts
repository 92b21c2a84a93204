import { isValidZone, parseDate, parseHHMM } from './local-time.js';
import { WEEKDAYS, type ScheduleProblem, type WorkSchedule } from './types.js';

const DAY = 1440;
const WEEK = 7 * DAY;

interface Span {
  path: string;
  label: string;
  start: number; // minutes from the start of the day (or week)
  length: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Minutes from start to end; a shift with end <= start crosses midnight ('00:00'-'00:00' = 24 h). */
function lengthOf(start: number, end: number): number {
  return end > start ? end - start : end - start + DAY;
}

/** Parses start/end of a shift at `path`, recording problems; undefined when either is bad. */
function shiftSpan(
  raw: unknown,
  path: string,
  problems: ScheduleProblem[],
): { start: number; length: number; label: string } | undefined {
  if (!isRecord(raw)) {
    problems.push({ path, message: 'must be an object with start and end' });
    return undefined;
  }
  const s = parseHHMM(raw.start);
  const e = parseHHMM(raw.end);
  if (s === undefined)
    problems.push({ path: `${path}.start`, message: 'must be a time HH:MM (00:00-23:59)' });
  if (e === undefined) problems.push({ path: `${path}.end`, message: 'must be a time HH:MM (00:00-23:59)' });
  if (s === undefined || e === undefined) return undefined;
  return { start: s, length: lengthOf(s, e), label: `${String(raw.start)}-${String(raw.end)}` };
}

/** Pairwise overlap, on a circle of `period` minutes when given (the week wraps Sunday → Monday). */
function overlaps(a: Span, b: Span, period?: number): boolean {
  if (period === undefined) return a.start < b.start + b.length && b.start < a.start + a.length;
  const mod = (x: number) => ((x % period) + period) % period;
  return mod(b.start - a.start) < a.length || mod(a.start - b.start) < b.length;
}

function reportOverlaps(spans: Span[], problems: ScheduleProblem[], period?: number): void {
  spans.forEach((b, j) => {
    const a = spans.slice(0, j).find((x) => overlaps(x, b, period));
    if (a) problems.push({ path: b.path, message: `${b.label} overlaps ${a.path} (${a.label})` });
  });
}

/**
 * Problems of a schedule, each with a JSON-ish path: unknown IANA zone, a bad weekday, a time
 * that is not HH:MM, weekly shifts that overlap (a shift crossing midnight is checked against the
 * next day, Sunday against Monday), overlapping shifts within one override, a bad or duplicate
 * override date. Empty when the schedule is usable.
 */
export function isValidSchedule(schedule: WorkSchedule): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  const raw: unknown = schedule;
  if (!isRecord(raw)) return [{ path: '', message: 'must be an object' }];
  if (!isValidZone(raw.timezone)) {
    problems.push({ path: 'timezone', message: `unknown IANA timezone: ${String(raw.timezone)}` });
  }

  if (!Array.isArray(raw.weeklyHours)) {
    problems.push({ path: 'weeklyHours', message: 'must be an array' });
  } else {
    const spans: Span[] = [];
    (raw.weeklyHours as unknown[]).forEach((w, i) => {
      const path = `weeklyHours[${i}]`;
      const day = isRecord(w) ? WEEKDAYS.indexOf(w.day as never) : -1;
      if (isRecord(w) && day < 0) {
        problems.push({ path: `${path}.day`, message: `must be one of ${WEEKDAYS.join(', ')}` });
      }
      const span = shiftSpan(w, path, problems);
      if (span && day >= 0) {
        spans.push({
          path,
          label: `${WEEKDAYS[day] ?? ''} ${span.label}`,
          start: day * DAY + span.start,
          length: span.length,
        });
      }
    });
    reportOverlaps(spans, problems, WEEK);
  }

  if (!Array.isArray(raw.overrides)) {
    problems.push({ path: 'overrides', message: 'must be an array' });
  } else {
    const seen = new Map<string, number>();
    (raw.overrides as unknown[]).forEach((o, i) => {
      const path = `overrides[${i}]`;
      if (!isRecord(o)) {
        problems.push({ path, message: 'must be an object with date and shifts' });
        return;
      }
      if (parseDate(o.date) === undefined) {
        problems.push({ path: `${path}.date`, message: 'must be a date YYYY-MM-DD' });
      } else {
        const first = seen.get(o.date as string);
        if (first === undefined) seen.set(o.date as string, i);
        else
          problems.push({
            path: `${path}.date`,
            message: `duplicate override date, already in overrides[${first}]`,
          });
      }
      if (!Array.isArray(o.shifts)) {
        problems.push({ path: `${path}.shifts`, message: 'must be an array ([] = closed)' });
        return;
      }
      const spans: Span[] = [];
      (o.shifts as unknown[]).forEach((s, j) => {
        const span = shiftSpan(s, `${path}.shifts[${j}]`, problems);
        if (span) spans.push({ path: `${path}.shifts[${j}]`, ...span });
      });
      reportOverlaps(spans, problems);
    });
  }
  return problems;
}
