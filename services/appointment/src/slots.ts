import type { SlotList } from '@hms/contracts';
import { authorize, invalid, type Caller } from '@hms/platform';
import { MAX_RANGE_MS, closureIntervals, findSlots } from '@hms/scheduling';
import { type AppointmentContext } from './appointments.js';
import type { FieldProblem } from './domain/booking.js';
import * as store from './store.js';

const DAY_MS = 86_400_000;
/** Most staff members one search looks at (a department or specialty of more is narrowed by staffId). */
const MOST_STAFF = 50;
const iso = (ms: number) => new Date(ms).toISOString();

export interface SlotQuery {
  type: string;
  from: string;
  to: string;
  staffId?: string | undefined;
  specialty?: string | undefined;
  department?: string | undefined;
  limit?: number | undefined;
}

/**
 * `GET /appointments/slots` (FHIR `$find`): bookable start times on the grid for one staff member
 * or the active staff of a department or specialty (from the staff copy), by the same rules a
 * booking is checked with (the scheduling module's `findSlots`, and the overlap of busy spans the
 * database refuses), so every slot offered books when booked alone.
 */
export async function slots(
  ctx: AppointmentContext,
  caller: Caller,
  q: SlotQuery,
  gridMin: number,
): Promise<SlotList> {
  authorize(caller, 'appointments:read');
  const range = { start: Date.parse(q.from), end: Date.parse(q.to) };
  const problems: FieldProblem[] = [];
  if (!(range.end > range.start)) problems.push({ path: '/querystring/to', message: 'must be after from' });
  else if (range.end - range.start > MAX_RANGE_MS)
    problems.push({ path: '/querystring/to', message: 'must be at most 31 days after from' });
  if (!q.staffId && !q.specialty && !q.department)
    problems.push({ path: '/querystring/staffId', message: 'give staffId, or specialty and/or department' });
  const type = await store.getType(ctx.db, q.type);
  if (!type) problems.push({ path: '/querystring/type', message: 'no appointment type has this code' });
  if (problems.length > 0 || !type) invalid(problems);

  const ids = q.staffId ? [q.staffId] : await store.copiedStaffIds(ctx.db, q, MOST_STAFF);
  const around = { start: range.start - DAY_MS, end: range.end + DAY_MS };
  const [bookings, closureDates] = await Promise.all([
    store.busySpans(ctx.db, ids, around.start, around.end),
    store.closureDates(
      ctx.db,
      iso(around.start - DAY_MS).slice(0, 10),
      iso(around.end + DAY_MS).slice(0, 10),
    ),
  ]);
  const closures = closureIntervals(closureDates, ctx.facility.timezone, around);
  const found: { staffId: string; start: number; end: number }[] = [];
  for (const staffId of ids) {
    const staff = await ctx.copies.staffMember(staffId);
    if (!staff) {
      if (q.staffId) invalid([{ path: '/querystring/staffId', message: 'no staff member has this id' }]);
      continue;
    }
    if (!staff.active || !type.active) continue;
    const timeOff = await store.timeOffOf(ctx.db, staffId, around.start, around.end);
    const mine = bookings.get(staffId) ?? [];
    for (const s of findSlots(
      { schedule: staff, closures, timeOff, bookings: mine },
      {
        range,
        durationMin: type.durationMin,
        bufferBeforeMin: type.bufferBeforeMin,
        bufferAfterMin: type.bufferAfterMin,
        gridMin,
      },
    ))
      found.push({ staffId, start: s.start, end: s.end });
  }
  found.sort((a, b) => a.start - b.start || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0));
  return {
    type: type.code,
    from: iso(range.start),
    to: iso(range.end),
    gridMin,
    // only what is answered is formatted
    slots: found
      .slice(0, q.limit ?? 500)
      .map((s) => ({ staffId: s.staffId, start: iso(s.start), end: iso(s.end) })),
  };
}
