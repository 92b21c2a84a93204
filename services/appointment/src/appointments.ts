import type {
  Appointment,
  AppointmentHistoryEntry,
  AppointmentInput,
  AppointmentSeries,
  AppointmentStatus,
  AppointmentType,
  AppointmentUpdate,
  CancelInput,
  RescheduleInput,
} from '@hms/contracts';
import {
  authorize,
  invalid,
  appendToOutbox,
  checkVersion,
  decodeCursor,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Clock,
  type Db,
  type Tx,
} from '@hms/platform';
import { closureIntervals, occurrences, slotRuleBroken, type Interval } from '@hms/scheduling';
import type { Copies, StaffEntry } from './copies.js';
import { recurrenceProblems, requestedSlot, type FieldProblem } from './domain/booking.js';
import { transition, type AppointmentAction } from './domain/status.js';
import { AppointmentErrors } from './errors.js';
import * as store from './store.js';

/**
 * The Appointment service's use cases: authorize, validate, load, decide, save, emit. A change
 * and its event commit in one transaction (DESIGN.md §5); overlaps are refused by the database's
 * exclusion constraints, and the loser is told which appointment it lost to.
 */
export const SOURCE = 'appointment';

export interface AppointmentContext {
  db: Db;
  clock: Clock;
  facility: { timezone: string };
  copies: Copies;
}

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** An exclusion constraint refused the write: an overlap with an active appointment. */
function isOverlap(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23P01';
}

// ---- booking

interface Checked {
  type: AppointmentType;
  staff: StaffEntry;
  slots: Interval[];
  seriesId: string | undefined;
}

/** How far around a booking's start its one read of the copies looks (time off, closures). */
const WINDOW_MS = 2 * DAY_MS;

/**
 * Validates a booking request and runs every check that is not the database's. A booking whose
 * copies are warm reads everything it checks in one query (`store.bookingContext`); a copy that
 * lacks the staff member, the patient, or has never been filled from Staff is filled first
 * (read through to the owner: 503 when it cannot answer).
 */
async function checkBooking(ctx: AppointmentContext, input: AppointmentInput): Promise<Checked> {
  const now = ctx.clock.now();
  const first = Date.parse(input.start);
  const window = { start: first - WINDOW_MS, end: first + WINDOW_MS };
  const pre = await store.bookingContext(ctx.db, {
    type: input.type,
    staffId: input.staffId,
    patientId: input.patientId,
    from: window.start,
    to: window.end,
    closuresFrom: iso(window.start - DAY_MS).slice(0, 10),
    closuresTo: iso(window.end + DAY_MS).slice(0, 10),
  });
  const type = pre.type;
  const problems: FieldProblem[] = [];
  if (!type) problems.push({ path: '/body/type', message: 'no appointment type has this code' });
  const { slot, problems: slotProblems } = requestedSlot(
    input.start,
    input.end,
    type?.durationMin ?? 15,
    now,
  );
  problems.push(...slotProblems);
  // the rule's own problems now (in its zone, else the facility's); the staff member's zone below
  if (input.recurrence)
    problems.push(...recurrenceProblems(input.recurrence, ctx.facility.timezone, slot.start));
  if (problems.length > 0 || !type) invalid(problems);

  const warm =
    pre.staff !== undefined && pre.patient !== undefined && pre.timeOffFilled && pre.closuresFilled;
  const [staff, patient] = warm
    ? [pre.staff, pre.patient]
    : await Promise.all([ctx.copies.staffMember(input.staffId), ctx.copies.patients.get(input.patientId)]);
  const missing: FieldProblem[] = [];
  if (!patient) missing.push({ path: '/body/patientId', message: 'no patient has this id' });
  if (!staff) missing.push({ path: '/body/staffId', message: 'no staff member has this id' });
  if (input.recurrence && staff && input.recurrence.timezone === undefined)
    missing.push(...recurrenceProblems(input.recurrence, staff.timezone, slot.start));
  if (missing.length > 0) invalid(missing);
  if (!staff || !patient) throw new Error('unreachable');
  if (!patient.active) throw AppointmentErrors.patient_inactive('an inactive patient cannot be booked');
  if (!staff.active) throw AppointmentErrors.staff_inactive('an inactive staff member cannot be booked');
  if (!type.active)
    throw AppointmentErrors.appointment_type_inactive(`type ${type.code} is not offered any more`);

  const slots = input.recurrence
    ? occurrences({ ...input.recurrence, timezone: input.recurrence.timezone ?? staff.timezone }, slot)
    : [slot];
  // what the one read brought covers the slots when the copies were warm and the slots lie in its window
  const inWindow = slots.every((s) => s.start - DAY_MS >= window.start && s.end + DAY_MS <= window.end);
  const known =
    warm && inWindow ? { timeOff: pre.timeOff, closureDates: pre.closureDates, range: window } : undefined;
  await checkAvailability(ctx, input.staffId, staff, slots, known);
  return { type, staff, slots, seriesId: input.recurrence ? uuidv7() : undefined };
}

/** Every slot must lie in the staff member's working time, outside closures and time off; 409 naming the rule otherwise. */
async function checkAvailability(
  ctx: AppointmentContext,
  staffId: string,
  staff: StaffEntry,
  slots: Interval[],
  known?: { timeOff: Interval[]; closureDates: string[]; range: Interval },
): Promise<void> {
  const from = Math.min(...slots.map((s) => s.start)) - DAY_MS;
  const to = Math.max(...slots.map((s) => s.end)) + DAY_MS;
  const zone = ctx.facility.timezone;
  const [timeOff, closureDates] = known
    ? [known.timeOff, known.closureDates]
    : await Promise.all([
        store.timeOffOf(ctx.db, staffId, from, to),
        store.closureDates(ctx.db, iso(from - DAY_MS).slice(0, 10), iso(to + DAY_MS).slice(0, 10)),
      ]);
  const working = {
    schedule: staff,
    timeOff,
    closures: closureIntervals(closureDates, zone, known?.range ?? { start: from, end: to }),
  };
  const broken = slots
    .map((s) => ({ start: iso(s.start), end: iso(s.end), rule: slotRuleBroken(working, s) }))
    .filter((b) => b.rule !== undefined);
  if (broken.length === 0) return;
  const first = broken[0] as { start: string; end: string; rule: string };
  throw AppointmentErrors.slot_unavailable(
    slots.length === 1
      ? `the slot is not bookable: ${first.rule}`
      : `${broken.length} of ${slots.length} occurrences are not bookable (the first: ${first.rule}, starting ${first.start})`,
    {
      extensions: {
        rule: first.rule,
        start: first.start,
        end: first.end,
        ...(slots.length > 1 ? { occurrences: broken } : {}),
      },
    },
  );
}

/** The 409 of an overlap: which active appointment each refused slot overlaps. */
async function overlapProblem(
  ctx: AppointmentContext,
  q: {
    staffId: string;
    patientId: string;
    bufferBeforeMin: number;
    bufferAfterMin: number;
    exclude?: string;
  },
  slots: Interval[],
) {
  const conflicts = [];
  for (const s of slots) {
    const c = await store.findConflict(ctx.db, {
      staffId: q.staffId,
      patientId: q.patientId,
      slot: s,
      busy: { start: s.start - q.bufferBeforeMin * MINUTE, end: s.end + q.bufferAfterMin * MINUTE },
      ...(q.exclude ? { exclude: q.exclude } : {}),
    });
    if (c)
      conflicts.push({
        occurrenceStart: iso(s.start),
        occurrenceEnd: iso(s.end),
        conflictingAppointmentId: c.id,
        start: c.start,
        end: c.end,
        with: c.patientId === q.patientId ? ('patient' as const) : ('staff' as const),
      });
  }
  if (conflicts.length === 0) return undefined; // the other appointment went away meanwhile: try again
  const first = conflicts[0] as (typeof conflicts)[number];
  return AppointmentErrors.appointment_conflict(
    slots.length === 1
      ? `overlaps appointment ${first.conflictingAppointmentId} of the same ${first.with === 'patient' ? 'patient' : 'staff member'}`
      : `${conflicts.length} of ${slots.length} occurrences overlap other appointments`,
    {
      extensions: {
        conflictingAppointmentId: first.conflictingAppointmentId,
        start: first.start,
        end: first.end,
        ...(slots.length > 1 ? { conflicts } : {}),
      },
    },
  );
}

/**
 * Writes in a transaction; when an exclusion constraint refuses it, answers the 409 naming the
 * appointment it overlaps (found after the rollback), or tries again when that one is gone.
 */
async function withOverlapCheck<T>(
  ctx: AppointmentContext,
  write: () => Promise<T>,
  conflict: () => Promise<ReturnType<typeof AppointmentErrors.appointment_conflict> | undefined>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await write();
    } catch (err) {
      if (!isOverlap(err)) throw err;
      const problem = await conflict();
      if (problem) throw problem;
      if (attempt >= 2)
        throw AppointmentErrors.appointment_conflict('the slot was taken meanwhile; try again');
    }
  }
}

const entry = (
  caller: Caller,
  now: Date,
  action: AppointmentHistoryEntry['action'],
  extra: Partial<AppointmentHistoryEntry> = {},
): AppointmentHistoryEntry => ({
  at: now.toISOString(),
  action,
  by: caller.id,
  ...extra,
});

/** POST /appointments: one appointment, or every occurrence of a series or none. */
export async function book(
  ctx: AppointmentContext,
  caller: Caller,
  input: AppointmentInput,
): Promise<Appointment | AppointmentSeries> {
  authorize(caller, 'appointments:write');
  const { type, slots, seriesId } = await checkBooking(ctx, input);
  const now = ctx.clock.now();
  const rows: store.NewAppointment[] = slots.map((s) => ({
    id: uuidv7(),
    patientId: input.patientId,
    staffId: input.staffId,
    type: type.code,
    start: s.start,
    end: s.end,
    bufferBeforeMin: type.bufferBeforeMin,
    bufferAfterMin: type.bufferAfterMin,
    reason: input.reason,
    location: input.location,
    seriesId,
    history: [entry(caller, now, 'booked')],
  }));
  const saved = await withOverlapCheck(
    ctx,
    () =>
      ctx.db.transaction(async (tx) => {
        await store.lockBookings(tx, rows);
        const list = await store.insertAppointments(tx, rows, now);
        for (const a of list)
          await appendToOutbox(tx, SOURCE, {
            type: 'appointment.created.v1',
            subject: a.id,
            data: { appointment: a },
          });
        return list;
      }),
    () =>
      overlapProblem(
        ctx,
        {
          staffId: input.staffId,
          patientId: input.patientId,
          bufferBeforeMin: type.bufferBeforeMin,
          bufferAfterMin: type.bufferAfterMin,
        },
        slots,
      ),
  );
  return seriesId ? { seriesId, appointments: saved } : (saved[0] as Appointment);
}

export async function getAppointment(
  ctx: AppointmentContext,
  caller: Caller,
  id: string,
): Promise<Appointment> {
  authorize(caller, 'appointments:read');
  const a = await store.getAppointment(ctx.db, id);
  if (!a) throw AppointmentErrors.appointment_not_found();
  return a;
}

export interface AppointmentQuery extends store.AppointmentFilter {
  limit?: number;
  cursor?: string;
}

export async function listAppointments(ctx: AppointmentContext, caller: Caller, q: AppointmentQuery) {
  authorize(caller, 'appointments:read');
  if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from))
    invalid([{ path: '/querystring/to', message: 'must be after from' }]);
  const limit = q.limit ?? 20;
  const isKey = ([start, id]: (string | number)[]) =>
    typeof start === 'string' && !Number.isNaN(Date.parse(start)) && typeof id === 'string' && isUuid(id);
  const after = decodeCursor(q.cursor, 2, isKey) as [string, string] | undefined;
  const rows = await store.listAppointments(
    ctx.db,
    {
      patientId: q.patientId,
      staffId: q.staffId,
      status: q.status,
      seriesId: q.seriesId,
      from: q.from,
      to: q.to,
    },
    { after, limit },
  );
  return toPage(rows, limit, (a) => [a.start, a.id]);
}

// ---- changes of one appointment

/** Actions that write an appointment which stays active: its row is checked by the exclusion constraints again. */
const KEEPS_SLOT: ReadonlySet<AppointmentAction> = new Set(['reschedule', 'update', 'check-in']);

/**
 * Locks the appointment, checks If-Match and that `action` is allowed from its status. An action
 * that keeps the slot first queues behind other writes of its staff member and patient
 * (`store.lockBookings`, before the row lock, in the order every booking takes them).
 */
async function lockFor(
  tx: Tx,
  id: string,
  action: AppointmentAction,
  expected: number | '*' | undefined,
): Promise<{ current: Appointment; next: AppointmentStatus }> {
  if (KEEPS_SLOT.has(action)) {
    const seen = await store.getAppointment(tx, id);
    if (seen) await store.lockBookings(tx, [seen]);
  }
  const current = await store.getAppointment(tx, id, true);
  if (!current) throw AppointmentErrors.appointment_not_found();
  if (expected !== undefined) checkVersion(expected, current.version);
  const next = transition(current.status, action);
  if (!next)
    throw AppointmentErrors.illegal_transition(
      `an appointment that is ${current.status} cannot ${action === 'no-show' ? 'be marked no-show' : action}`,
      {
        extensions: { appointmentStatus: current.status, action },
      },
    );
  return { current, next };
}

/** PUT: the details (reason, location); the time changes through reschedule. */
export async function updateDetails(
  ctx: AppointmentContext,
  caller: Caller,
  id: string,
  input: AppointmentUpdate,
  expected: number | '*',
): Promise<Appointment> {
  authorize(caller, 'appointments:write');
  return ctx.db.transaction(async (tx) => {
    const { current } = await lockFor(tx, id, 'update', expected);
    const reason = input.reason?.trim() || undefined;
    const location = input.location?.trim() || undefined;
    if (reason === current.reason && location === current.location) return current;
    const saved = await store.updateAppointment(
      tx,
      id,
      {
        reason: reason ?? null,
        location: location ?? null,
        history: entry(caller, ctx.clock.now(), 'updated'),
      },
      ctx.clock.now(),
    );
    await appendToOutbox(tx, SOURCE, {
      type: 'appointment.updated.v1',
      subject: id,
      data: { appointment: saved, change: 'updated' },
    });
    return saved;
  });
}

/** Moves the appointment to a new slot, keeping its id; every booking check runs again. */
export async function reschedule(
  ctx: AppointmentContext,
  caller: Caller,
  id: string,
  input: RescheduleInput,
  expected: number | '*' | undefined,
): Promise<Appointment> {
  authorize(caller, 'appointments:write');
  const before = await store.getAppointment(ctx.db, id);
  if (!before) throw AppointmentErrors.appointment_not_found();
  const duration = (Date.parse(before.end) - Date.parse(before.start)) / MINUTE;
  const { slot, problems } = requestedSlot(input.start, input.end, duration, ctx.clock.now());
  if (problems.length > 0) invalid(problems);
  if (!transition(before.status, 'reschedule'))
    throw AppointmentErrors.illegal_transition(
      `an appointment that is ${before.status} cannot be rescheduled`,
      {
        extensions: { appointmentStatus: before.status, action: 'reschedule' },
      },
    );
  const [staff, patient] = await Promise.all([
    ctx.copies.staffMember(before.staffId),
    ctx.copies.patients.get(before.patientId),
  ]);
  if (!patient?.active) throw AppointmentErrors.patient_inactive('an inactive patient cannot be booked');
  if (!staff?.active) throw AppointmentErrors.staff_inactive('an inactive staff member cannot be booked');
  await checkAvailability(ctx, before.staffId, staff, [slot]);
  const now = ctx.clock.now();
  return withOverlapCheck(
    ctx,
    () =>
      ctx.db.transaction(async (tx) => {
        const { current } = await lockFor(tx, id, 'reschedule', expected);
        if (Date.parse(current.start) === slot.start && Date.parse(current.end) === slot.end) return current;
        const saved = await store.updateAppointment(
          tx,
          id,
          {
            start: slot.start,
            end: slot.end,
            history: entry(caller, now, 'rescheduled', {
              previousStart: current.start,
              previousEnd: current.end,
            }),
          },
          now,
        );
        await appendToOutbox(tx, SOURCE, {
          type: 'appointment.updated.v1',
          subject: id,
          data: {
            appointment: saved,
            change: 'rescheduled',
            previousStart: current.start,
            previousEnd: current.end,
          },
        });
        return saved;
      }),
    () =>
      overlapProblem(
        ctx,
        {
          staffId: before.staffId,
          patientId: before.patientId,
          bufferBeforeMin: before.bufferBeforeMin,
          bufferAfterMin: before.bufferAfterMin,
          exclude: id,
        },
        [slot],
      ),
  );
}

/** Cancels the appointment and, with scope `following`, every later scheduled occurrence of its series. */
export async function cancel(
  ctx: AppointmentContext,
  caller: Caller,
  id: string,
  input: Partial<CancelInput>,
  expected: number | '*' | undefined,
): Promise<Appointment[]> {
  authorize(caller, 'appointments:write');
  const scope = input.scope ?? 'this';
  const reason = input.reason?.trim() || undefined;
  if (input.reason !== undefined && !reason)
    invalid([{ path: '/body/reason', message: 'must not be blank' }]);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { current } = await lockFor(tx, id, 'cancel', expected);
    const targets = [current];
    if (scope === 'following' && current.seriesId)
      targets.push(...(await store.followingInSeries(tx, current.seriesId, current.start)));
    const out: Appointment[] = [];
    for (const a of targets) {
      const saved = await store.updateAppointment(
        tx,
        a.id,
        {
          status: 'cancelled',
          ...(reason ? { cancellationReason: reason } : {}),
          history: entry(caller, now, 'cancelled', reason ? { reason } : {}),
        },
        now,
      );
      await appendToOutbox(tx, SOURCE, {
        type: 'appointment.cancelled.v1',
        subject: a.id,
        data: { appointment: saved, scope, ...(reason ? { reason } : {}) },
      });
      out.push(saved);
    }
    return out;
  });
}

/** check-in, complete, no-show: the state machine decides; an illegal step is a 409. */
export async function advance(
  ctx: AppointmentContext,
  caller: Caller,
  id: string,
  action: 'check-in' | 'complete' | 'no-show',
): Promise<Appointment> {
  authorize(caller, 'appointments:write');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { next } = await lockFor(tx, id, action, undefined);
    const saved = await store.updateAppointment(
      tx,
      id,
      { status: next, history: entry(caller, now, next as AppointmentHistoryEntry['action']) },
      now,
    );
    await appendToOutbox(tx, SOURCE, {
      type: 'appointment.updated.v1',
      subject: id,
      data: { appointment: saved, change: next },
    });
    return saved;
  });
}

/**
 * The no-show job: appointments still scheduled `afterMin` minutes after their end become
 * no-show, in batches, each with its event. Answers how many it marked.
 */
export async function markNoShows(ctx: AppointmentContext, afterMin: number, batch = 100): Promise<number> {
  const now = ctx.clock.now();
  const before = new Date(now.getTime() - afterMin * MINUTE);
  const system = { id: `svc:${SOURCE}` } as Caller;
  let total = 0;
  for (;;) {
    const n = await ctx.db.transaction(async (tx) => {
      const due = await store.dueNoShows(tx, before, batch);
      for (const a of due) {
        const saved = await store.updateAppointment(
          tx,
          a.id,
          { status: 'no-show', history: entry(system, now, 'no-show') },
          now,
        );
        await appendToOutbox(tx, SOURCE, {
          type: 'appointment.updated.v1',
          subject: a.id,
          data: { appointment: saved, change: 'no-show' },
        });
      }
      return due.length;
    });
    total += n;
    if (n < batch) return total;
  }
}
