/**
 * @hms/scheduling — pure availability computation (no I/O), shared by Staff (`/availability`)
 * and Appointment (booking checks, slot finder). All instants are epoch ms, intervals half-open.
 * DST rules (gap → first instant after the gap; ambiguous → first occurrence): see local-time.ts.
 */
export {
  MAX_RANGE_MS,
  WEEKDAYS,
  type Booking,
  type DateOverride,
  type Interval,
  type ScheduleProblem,
  type Shift,
  type Weekday,
  type WeeklyHours,
  type WorkSchedule,
} from './types.js';
export { clip, covers, intersect, merge, subtract } from './interval.js';
export { localInstant, type LocalDate } from './local-time.js';
export { closureIntervals, shiftInterval, workingIntervals } from './schedule.js';
export { availability, bookingBusy, type AvailabilityInput } from './availability.js';
export { isValidSchedule } from './validate.js';
export { openTime, slotRuleBroken, findSlots, type SlotQuery, type WorkingTime } from './slots.js';
export {
  MAX_OCCURRENCES,
  checkRecurrence,
  occurrenceDate,
  occurrences,
  type RecurrenceRule,
} from './recurrence.js';
