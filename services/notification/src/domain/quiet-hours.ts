import { DateTime } from 'luxon';

/** A daily window, local wall times `HH:mm`; it wraps midnight when `start` is after `end`. */
export interface DailyWindow {
  start: string;
  end: string;
}

const minutesOf = (hhmm: string): number => {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/**
 * When a message may go out if it is `now` and the recipient keeps quiet hours `window` in
 * `zone`: undefined when `now` is outside the window, else the instant the window ends. Computed
 * on the recipient's wall clock (never the server's), across midnight and DST changes:
 *
 * - a window's end is the first instant the wall clock reads it after `now` (22:00–06:00 at
 *   23:00 ends at the next 06:00, whatever the offset is by then);
 * - an end the clock skips (spring forward, 02:30 in Europe/Berlin) is taken as the same time in
 *   the offset before the change (03:30 after it), so the night keeps its usual length;
 * - an end the clock reads twice (fall back) is its first reading.
 */
export function quietUntil(now: Date, zone: string, window: DailyWindow): Date | undefined {
  const local = DateTime.fromJSDate(now, { zone });
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const minute = local.hour * 60 + local.minute;
  const wraps = start > end;
  const inside = wraps ? minute >= start || minute < end : minute >= start && minute < end;
  if (!inside) return undefined;
  const day = wraps && minute >= start ? local.plus({ days: 1 }) : local;
  const release = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour: Math.floor(end / 60), minute: end % 60 },
    { zone },
  );
  // read twice (fall back): the first reading; skipped: Luxon's shift forward, as documented above
  const [first = release] = release.getPossibleOffsets();
  return first.toJSDate();
}

/** Whether `window` is a window at all (start ≠ end). */
export const isWindow = (window: DailyWindow): boolean => minutesOf(window.start) !== minutesOf(window.end);
