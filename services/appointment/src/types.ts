import type { AppointmentType, AppointmentTypeInput, AppointmentTypeUpdate } from '@hms/contracts';
import { authorize, checkVersion, decodeCursor, invalid, toPage, type Caller } from '@hms/platform';
import { type AppointmentContext } from './appointments.js';
import { AppointmentErrors } from './errors.js';
import * as store from './store.js';

/** Appointment types are data (a code, a name, a default duration, buffers), edited with appointments:write. */

function complete(code: string, input: AppointmentTypeUpdate): Required<AppointmentTypeInput> {
  const name = input.name.trim();
  if (!name) invalid([{ path: '/body/name', message: 'must not be blank' }]);
  return {
    code,
    name,
    durationMin: input.durationMin,
    bufferBeforeMin: input.bufferBeforeMin ?? 0,
    bufferAfterMin: input.bufferAfterMin ?? 0,
    active: input.active ?? true,
  };
}

export async function createType(
  ctx: AppointmentContext,
  caller: Caller,
  input: AppointmentTypeInput,
): Promise<AppointmentType> {
  authorize(caller, 'appointments:write');
  const t = await store.insertType(ctx.db, complete(input.code, input), ctx.clock.now());
  if (!t)
    throw AppointmentErrors.appointment_type_exists(`type ${input.code} exists; change it with PUT`, {
      extensions: { existingId: input.code },
    });
  return t;
}

export async function getType(
  ctx: AppointmentContext,
  caller: Caller,
  code: string,
): Promise<AppointmentType> {
  authorize(caller, 'appointments:read');
  const t = await store.getType(ctx.db, code);
  if (!t) throw AppointmentErrors.appointment_type_not_found();
  return t;
}

/**
 * PUT: every field but the code. Booked appointments keep the duration and buffers they were
 * booked with; the change applies to bookings from now on.
 */
export async function replaceType(
  ctx: AppointmentContext,
  caller: Caller,
  code: string,
  input: AppointmentTypeUpdate,
  expected: number | '*',
): Promise<AppointmentType> {
  authorize(caller, 'appointments:write');
  const next = complete(code, input);
  return ctx.db.transaction(async (tx) => {
    const current = await store.getType(tx, code, true);
    if (!current) throw AppointmentErrors.appointment_type_not_found();
    checkVersion(expected, current.version);
    return store.updateType(tx, next, ctx.clock.now());
  });
}

export async function listTypes(
  ctx: AppointmentContext,
  caller: Caller,
  q: { active?: boolean; limit?: number; cursor?: string },
) {
  authorize(caller, 'appointments:read');
  const limit = q.limit ?? 50;
  const after = decodeCursor(q.cursor, 1, ([code]) => typeof code === 'string')?.[0] as string | undefined;
  const rows = await store.listTypes(ctx.db, { active: q.active, after, limit });
  return toPage(rows, limit, (t) => [t.code]);
}
