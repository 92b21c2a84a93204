import type { StaffAvailability } from '@hms/contracts';
import { authorize, invalid, type Caller } from '@hms/platform';
import { MAX_RANGE_MS, availability, closureIntervals, type Interval } from '@hms/scheduling';
import { existingStaff, type StaffContext } from './staff.js';
import * as store from './store.js';

const DAY_MS = 86_400_000;
/** More time off or closures than this in 31 days is not a schedule anyone keeps. */
const MOST_ENTRIES = 1000;

/** The local date (YYYY-MM-DD) of an instant in a time zone. */
const localDate = (ms: number, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    ms,
  );

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A `from`–`to` query range as instants: `to` after `from`, at most 31 days after it (the
 * scheduling module's bound), else 400 naming `/querystring/to`.
 */
export function queryRange(q: { from: string; to: string }): Interval {
  const range: Interval = { start: Date.parse(q.from), end: Date.parse(q.to) };
  if (!(range.end > range.start)) invalid([{ path: '/querystring/to', message: 'must be after from' }]);
  if (range.end - range.start > MAX_RANGE_MS)
    invalid([{ path: '/querystring/to', message: 'must be at most 31 days after from' }]);
  return range;
}

/**
 * `GET /staff/{id}/availability?from=&to=`: the staff member's free intervals in [from, to), at
 * most 31 days: working time in their time zone (the scheduling module's rules: shifts past
 * midnight, date overrides, DST) minus the facility's closures (whole days in its time zone) and
 * their time off, minus their active (scheduled or checked-in) appointments with the buffers
 * around them, from the assignments copy Staff keeps of Appointment's events. An inactive staff
 * member has no free time.
 */
export async function staffAvailability(
  ctx: StaffContext,
  caller: Caller,
  id: string,
  q: { from: string; to: string },
): Promise<StaffAvailability> {
  authorize(caller, 'staff:read');
  const range = queryRange(q);
  const member = await existingStaff(ctx, id);
  const answer = { staffId: id, timezone: member.timezone, from: iso(range.start), to: iso(range.end) };
  if (!member.active) return { ...answer, intervals: [] };
  const zone = ctx.facility.timezone;
  const [timeOff, closures, bookings] = await Promise.all([
    store.listTimeOff(ctx.db, id, { from: answer.from, to: answer.to, limit: MOST_ENTRIES }),
    store.listClosures(ctx.db, {
      from: localDate(range.start - DAY_MS, zone),
      to: localDate(range.end + DAY_MS, zone),
      limit: MOST_ENTRIES,
    }),
    store.bookings(ctx.db, id, answer.from, answer.to),
  ]);
  const free = availability(
    {
      schedule: { timezone: member.timezone, weeklyHours: member.weeklyHours, overrides: member.overrides },
      closures: closureIntervals(
        closures.map((c) => c.date),
        zone,
        range,
      ),
      timeOff: timeOff.map((t) => ({ start: Date.parse(t.start), end: Date.parse(t.end) })),
      bookings,
    },
    range,
  );
  return { ...answer, intervals: free.map((i) => ({ start: iso(i.start), end: iso(i.end) })) };
}
