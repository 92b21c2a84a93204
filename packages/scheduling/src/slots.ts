import { bookingBusy } from './availability.js';
import { covers, merge, subtract } from './interval.js';
import { workingIntervals } from './schedule.js';
import type { Booking, Interval, WorkSchedule } from './types.js';

const MINUTE = 60_000;

/** What the booking rules read for one staff member; bookings are checked by the database. */
export interface WorkingTime {
  schedule: WorkSchedule;
  closures: readonly Interval[];
  timeOff: readonly Interval[];
}

/** Working time − closures − time off over `range`: where an appointment itself may lie. */
export function openTime(input: WorkingTime, range: Interval): Interval[] {
  return subtract(workingIntervals(input.schedule, range), [...input.closures, ...input.timeOff]);
}

/**
 * Which rule a slot breaks, or undefined when it lies wholly inside working time, outside every
 * closure and every time off. (Its buffers may reach outside working time; other bookings,
 * buffers included, are the database's check.)
 */
export function slotRuleBroken(
  input: WorkingTime,
  slot: Interval,
): 'outside-working-hours' | 'facility-closed' | 'time-off' | undefined {
  const around = { start: slot.start - 86_400_000, end: slot.end + 86_400_000 };
  const working = workingIntervals(input.schedule, around);
  if (!covers(working, slot)) return 'outside-working-hours';
  if (!covers(subtract(working, input.closures), slot)) return 'facility-closed';
  if (!covers(subtract(working, [...input.closures, ...input.timeOff]), slot)) return 'time-off';
  return undefined;
}

export interface SlotQuery {
  range: Interval;
  durationMin: number;
  bufferBeforeMin: number;
  bufferAfterMin: number;
  /** Slots start on multiples of this many minutes since the epoch (default 15). */
  gridMin?: number;
}

/**
 * Bookable start times in `range`: on the grid, the appointment inside open time (`openTime`), its
 * busy span (buffers included) clear of every booking's busy span. A slot offered here passes
 * `slotRuleBroken` and the database's overlap constraint when booked alone: the same rules.
 */
export function findSlots(input: WorkingTime & { bookings: readonly Booking[] }, q: SlotQuery): Interval[] {
  const grid = (q.gridMin ?? 15) * MINUTE;
  const duration = q.durationMin * MINUTE;
  const before = q.bufferBeforeMin * MINUTE;
  const after = q.bufferAfterMin * MINUTE;
  const open = openTime(input, { start: q.range.start - 86_400_000, end: q.range.end + 86_400_000 });
  const busy = merge(input.bookings.map(bookingBusy));
  const slots: Interval[] = [];
  let b = 0;
  for (const o of open) {
    let start = Math.max(Math.ceil(o.start / grid) * grid, Math.ceil(q.range.start / grid) * grid);
    for (; start + duration <= o.end && start < q.range.end; start += grid) {
      const span = { start: start - before, end: start + duration + after };
      while (b < busy.length && (busy[b] as Interval).end <= span.start) b += 1;
      // the first busy span that ends after this one starts; a clash when it starts before it ends
      const next = busy[b];
      if (next && next.start < span.end) {
        // jump to the first grid point whose span starts at or after this busy span's end
        const resume = Math.ceil((next.end + before) / grid) * grid;
        start = Math.max(start, resume - grid);
        continue;
      }
      slots.push({ start, end: start + duration });
    }
  }
  return slots;
}
