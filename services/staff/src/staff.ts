import type {
  Closure,
  ClosureInput,
  Staff,
  StaffInput,
  StaffPatch,
  TimeOff,
  TimeOffInput,
} from '@hms/contracts';
import {
  authorize,
  invalid,
  appendToOutbox,
  changeVersioned,
  decodeCursor,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Clock,
  type Db,
  type Tx,
} from '@hms/platform';
import { applyPatch, changedFields, checkStaff, normalizeInput } from './domain/staff.js';
import { StaffErrors } from './errors.js';
import * as store from './store.js';

/**
 * The Staff service's use cases. Each reads like the story: authorize, validate, load, decide,
 * save, emit; a change and its event commit in one transaction (DESIGN.md §5).
 */
export const SOURCE = 'staff';

/** What the use cases run with (ServiceDeps' part they need). */
export interface StaffContext {
  db: Db;
  clock: Clock;
  facility: { timezone: string };
}

function assertValid(input: StaffInput): StaffInput {
  const normalized = normalizeInput(input);
  const problems = checkStaff(normalized);
  if (problems.length > 0) invalid(problems);
  return normalized;
}

export async function onboardStaff(ctx: StaffContext, caller: Caller, raw: StaffInput): Promise<Staff> {
  authorize(caller, 'staff:write');
  const input = assertValid(raw);
  return ctx.db.transaction(async (tx) => {
    const staff = await store.insertStaff(tx, uuidv7(), input, ctx.clock.now());
    await appendToOutbox(tx, SOURCE, { type: 'staff.onboarded.v1', subject: staff.id, data: { staff } });
    return staff;
  });
}

export async function getStaff(ctx: StaffContext, caller: Caller, id: string): Promise<Staff> {
  authorize(caller, 'staff:read');
  const staff = await store.getStaff(ctx.db, id);
  if (!staff) throw StaffErrors.staff_not_found();
  return staff;
}

/** How many of the appointments that keep a staff member active a 409 names. */
const MOST_NAMED = 20;

/**
 * A staff member with active (scheduled or checked-in) appointments still to come or under way
 * stays active: 409 naming the first of them in start order, and how many there are. Read from
 * the assignments copy in the transaction that would deactivate, with the staff row locked.
 */
async function assertNoFutureAppointments(ctx: StaffContext, tx: Tx, id: string): Promise<void> {
  const { appointmentIds, count } = await store.futureActiveAssignments(tx, id, ctx.clock.now(), MOST_NAMED);
  if (count > 0)
    throw StaffErrors.staff_has_appointments(
      `the staff member has ${count} active appointment(s) still to come; cancel or reassign them first`,
      { extensions: { appointmentIds, count } },
    );
}

/**
 * Writes a new state of a staff member when it differs from the stored one: version + 1 and a
 * `staff.updated.v1` naming the changed fields. No change, no new version, no event. Every way
 * to deactivate (DELETE, PUT or PATCH with `active: false`) passes here, so the rule that a
 * staff member with appointments to come stays active is checked in this one place.
 */
function change(
  ctx: StaffContext,
  id: string,
  expected: number | '*' | undefined,
  next: (current: Staff) => StaffInput,
): Promise<Staff> {
  return changeVersioned(ctx.db, SOURCE, expected, {
    load: (tx) => store.getStaff(tx, id, true),
    notFound: () => StaffErrors.staff_not_found(),
    next: (current) => assertValid(next(current)),
    changedFields,
    save: async (tx, input, current) => {
      if (current.active && input.active === false) await assertNoFutureAppointments(ctx, tx, id);
      return store.updateStaff(tx, id, input, ctx.clock.now());
    },
    event: (staff, changed) => ({
      type: 'staff.updated.v1',
      subject: id,
      data: { staff, changedFields: changed },
    }),
  });
}

/** PUT: the body is the whole writable record; omitted optional fields are cleared. */
export function replaceStaff(
  ctx: StaffContext,
  caller: Caller,
  id: string,
  input: StaffInput,
  expected: number | '*',
): Promise<Staff> {
  authorize(caller, 'staff:write');
  return change(ctx, id, expected, (current) => ({ ...input, active: input.active ?? current.active }));
}

/** PATCH (JSON merge patch): only the fields sent change. */
export function patchStaff(
  ctx: StaffContext,
  caller: Caller,
  id: string,
  patch: StaffPatch,
  expected: number | '*' | undefined,
): Promise<Staff> {
  authorize(caller, 'staff:write');
  return change(ctx, id, expected, (current) => applyPatch(current, patch));
}

/**
 * DELETE deactivates: the record stays (appointments and audit refer to it) and `active` turns
 * false; refused with 409 while the staff member has active appointments to come (`change`).
 */
export function deactivateStaff(
  ctx: StaffContext,
  caller: Caller,
  id: string,
  expected: number | '*' | undefined,
): Promise<Staff> {
  authorize(caller, 'staff:write');
  return change(ctx, id, expected, (current) => ({ ...applyPatch(current, {}), active: false }));
}

export interface StaffQuery extends store.StaffFilter {
  limit?: number;
  cursor?: string;
}

export async function listStaff(ctx: StaffContext, caller: Caller, q: StaffQuery) {
  authorize(caller, 'staff:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const filter: store.StaffFilter = {
    role: q.role,
    department: q.department,
    specialty: q.specialty,
    active: q.active,
  };
  const rows = await store.listStaff(ctx.db, filter, { after, limit });
  return toPage(rows, limit, (s) => [s.id]);
}

// ---- time off

export async function existingStaff(ctx: StaffContext, id: string): Promise<Staff> {
  const staff = await store.getStaff(ctx.db, id);
  if (!staff) throw StaffErrors.staff_not_found();
  return staff;
}

export async function addTimeOff(
  ctx: StaffContext,
  caller: Caller,
  staffId: string,
  input: TimeOffInput,
): Promise<TimeOff> {
  authorize(caller, 'staff:write');
  const start = Date.parse(input.start);
  const end = Date.parse(input.end);
  if (!(end > start)) invalid([{ path: '/body/end', message: 'must be after start' }]);
  await existingStaff(ctx, staffId);
  return ctx.db.transaction(async (tx) => {
    const timeOff = await store.insertTimeOff(tx, {
      id: uuidv7(),
      staffId,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      reason: input.reason,
      now: ctx.clock.now(),
    });
    await appendToOutbox(tx, SOURCE, {
      type: 'staff.time-off-recorded.v1',
      subject: staffId,
      data: { timeOff },
    });
    return timeOff;
  });
}

export async function listTimeOff(
  ctx: StaffContext,
  caller: Caller,
  staffId: string,
  q: { from?: string; to?: string; limit?: number; cursor?: string },
) {
  authorize(caller, 'staff:read');
  await existingStaff(ctx, staffId);
  const limit = q.limit ?? 20;
  const isKey = ([start, id]: (string | number)[]) =>
    typeof start === 'string' && !Number.isNaN(Date.parse(start)) && typeof id === 'string' && isUuid(id);
  const after = decodeCursor(q.cursor, 2, isKey) as [string, string] | undefined;
  const rows = await store.listTimeOff(ctx.db, staffId, { from: q.from, to: q.to, after, limit });
  return toPage(rows, limit, (t) => [t.start, t.id]);
}

export async function removeTimeOff(
  ctx: StaffContext,
  caller: Caller,
  staffId: string,
  timeOffId: string,
): Promise<void> {
  authorize(caller, 'staff:write');
  await ctx.db.transaction(async (tx) => {
    const timeOff = await store.deleteTimeOff(tx, staffId, timeOffId);
    if (!timeOff) throw StaffErrors.time_off_not_found();
    await appendToOutbox(tx, SOURCE, {
      type: 'staff.time-off-removed.v1',
      subject: staffId,
      data: { timeOff },
    });
  });
}

// ---- facility closures

export async function addClosure(ctx: StaffContext, caller: Caller, input: ClosureInput): Promise<Closure> {
  authorize(caller, 'staff:write');
  const name = input.name.trim();
  if (!name) invalid([{ path: '/body/name', message: 'must not be blank' }]);
  return ctx.db.transaction(async (tx) => {
    const row = await store.insertClosure(tx, { id: uuidv7(), date: input.date, name, now: ctx.clock.now() });
    if (!row)
      throw StaffErrors.closure_exists(`delete the closure of ${input.date} first to rename it`, {
        extensions: { date: input.date },
      });
    const closure = { ...row, timezone: ctx.facility.timezone };
    await appendToOutbox(tx, SOURCE, {
      type: 'staff.closure-added.v1',
      subject: closure.date,
      data: { closure },
    });
    return closure;
  });
}

export async function listClosures(
  ctx: StaffContext,
  caller: Caller,
  q: { from?: string; to?: string; limit?: number; cursor?: string },
) {
  authorize(caller, 'staff:read');
  const limit = q.limit ?? 50;
  const isKey = ([date]: (string | number)[]) => typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date);
  const after = decodeCursor(q.cursor, 1, isKey)?.[0] as string | undefined;
  const rows = await store.listClosures(ctx.db, { from: q.from, to: q.to, after, limit });
  const page = toPage(rows, limit, (c) => [c.date]);
  return { ...page, items: page.items.map((c) => ({ ...c, timezone: ctx.facility.timezone })) };
}

export async function removeClosure(ctx: StaffContext, caller: Caller, date: string): Promise<void> {
  authorize(caller, 'staff:write');
  await ctx.db.transaction(async (tx) => {
    const row = await store.deleteClosure(tx, date);
    if (!row) throw StaffErrors.closure_not_found();
    const closure = { ...row, timezone: ctx.facility.timezone };
    await appendToOutbox(tx, SOURCE, {
      type: 'staff.closure-removed.v1',
      subject: closure.date,
      data: { closure },
    });
  });
}
