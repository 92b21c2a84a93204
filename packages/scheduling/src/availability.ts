import { subtract } from './interval.js';
import { workingIntervals } from './schedule.js';
import type { Booking, Interval, WorkSchedule } from './types.js';

const MINUTE = 60_000;

export interface AvailabilityInput {
  schedule: WorkSchedule;
  /** Facility closures, already as instants (see `closureIntervals`). */
  closures: readonly Interval[];
  timeOff: readonly Interval[];
  bookings: readonly Booking[];
}

/** The busy span of a booking: its interval extended by its buffers (negative buffers count as 0). */
export function bookingBusy(b: Booking): Interval {
  return {
    start: b.start - Math.max(0, b.bufferBeforeMin) * MINUTE,
    end: b.end + Math.max(0, b.bufferAfterMin) * MINUTE,
  };
}

/**
 * Free time within `range`: working time − closures − time off − bookings extended by their
 * buffers; clipped to the range, merged (touching intervals joined), sorted. Never contains an
 * instant whose local wall time falls in a spring-forward gap (there is none) and never starts
 * or ends at a made-up instant: every boundary is a real instant (see local-time.ts).
 */
export function availability(input: AvailabilityInput, range: Interval): Interval[] {
  const busy = [...input.closures, ...input.timeOff, ...input.bookings.map(bookingBusy)];
  return subtract(workingIntervals(input.schedule, range), busy);
}
