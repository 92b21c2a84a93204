/** Days of the week, Monday first (ISO order). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A shift in local wall time, 'HH:MM' (00:00–23:59). `end <= start` means the shift crosses
 * midnight and belongs to the day it starts; '00:00'–'00:00' is a whole day.
 */
export interface Shift {
  start: string;
  end: string;
}
export interface WeeklyHours extends Shift {
  day: Weekday;
}
/** Replaces the weekly hours of one local date; `shifts: []` = closed that day. */
export interface DateOverride {
  /** YYYY-MM-DD, local to the schedule's timezone. */
  date: string;
  shifts: Shift[];
}
export interface WorkSchedule {
  /** IANA zone name, e.g. 'Europe/Berlin'. */
  timezone: string;
  weeklyHours: WeeklyHours[];
  overrides: DateOverride[];
}
/** Epoch milliseconds, half-open [start, end). */
export interface Interval {
  start: number;
  end: number;
}
/** A booked appointment; its buffers (minutes) are busy time too. */
export interface Booking extends Interval {
  bufferBeforeMin: number;
  bufferAfterMin: number;
}
export interface ScheduleProblem {
  path: string;
  message: string;
}

/** Longest range the callers accept (31 days); the functions here assume a sane range. */
export const MAX_RANGE_MS = 31 * 86_400_000;
