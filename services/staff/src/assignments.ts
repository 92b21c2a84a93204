import type { AppointmentStatus, Assignment } from '@hms/contracts';
import { authorize, decodeCursor, isUuid, toPage, type Caller } from '@hms/platform';
import { queryRange } from './availability.js';
import { existingStaff, type StaffContext } from './staff.js';
import * as store from './store.js';

const iso = (ms: number) => new Date(ms).toISOString();

export interface AssignmentQuery {
  from: string;
  to: string;
  status?: AppointmentStatus | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/**
 * `GET /staff/{id}/assignments?from=&to=`: the staff member's appointments overlapping
 * [from, to) (at most 31 days), as Staff's copy of Appointment's events holds them, in start
 * order, keyset-paged on [start, appointmentId]; `status` keeps only those in that status.
 */
export async function listAssignments(
  ctx: StaffContext,
  caller: Caller,
  staffId: string,
  q: AssignmentQuery,
) {
  authorize(caller, 'staff:read');
  const range = queryRange(q);
  const limit = q.limit ?? 20;
  const isKey = ([start, id]: (string | number)[]) =>
    typeof start === 'string' && !Number.isNaN(Date.parse(start)) && typeof id === 'string' && isUuid(id);
  const after = decodeCursor(q.cursor, 2, isKey) as [string, string] | undefined;
  await existingStaff(ctx, staffId);
  const rows = await store.listAssignments(ctx.db, staffId, {
    from: iso(range.start),
    to: iso(range.end),
    status: q.status,
    after,
    limit,
  });
  return toPage<Assignment>(rows, limit, (a) => [a.start, a.appointmentId]);
}
