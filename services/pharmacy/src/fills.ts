import type {
  DispenseInput,
  Medication,
  Prescription,
  PrescriptionFill,
  Reservation,
  WardDispense,
} from '@hms/contracts';
import {
  AppError,
  appendToOutbox,
  authorize,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Tx,
} from '@hms/platform';
import { fillLines, fillRefusal, statusAfterFill } from './domain/fill.js';
import { OPEN } from './domain/prescription.js';
import { PharmacyErrors } from './errors.js';
import type { PharmacyContext } from './medications.js';
import { SOURCE } from './prescriptions.js';
import * as store from './store.js';

/**
 * The dispensing saga (issue #12, docs/adr/0013), orchestrated here, one fill at a time, never
 * holding a transaction across a call to Inventory:
 *
 * 1. the fill is recorded `pending` and its units counted against the prescription's items
 *    (`pending`), under the prescription's lock: two fills racing for the last refill cannot
 *    both start;
 * 2. each line's stock is reserved at Inventory (the reference is the fill's id and the line's
 *    position, so a retry answers the same reservation); short stock rejects the fill;
 * 3. each reservation is confirmed (a confirmed hold no longer times out); a hold that timed out
 *    rejects the fill (`reservation timeout`);
 * 4. in one transaction the fill is `completed` with its lots, the units move from pending to
 *    dispensed, and `medication.dispensed.v1` (one per line) and `prescription.filled.v1` go to
 *    the outbox: Inventory turns each reservation into a decrement exactly once.
 *
 * A rejection compensates every step: the reservations made are released, the pending units
 * given back, the fill kept `rejected` with its reason. A release Inventory cannot answer then is
 * recorded as owed on its line (`release_owed`) and retried by the resume job until Inventory
 * confirms it: a confirmed hold never times out. A Pharmacy that stops mid-way leaves the fill
 * `pending`; the resume job finishes or compensates it (Inventory's TTL is the safety net for
 * holds never confirmed).
 */

/** A reason the saga stops and compensates. */
class Rejection extends Error {}

type Line = store.StoredFill['lines'][number];

const problemCode = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null
    ? ((body as { code?: unknown }).code as string | undefined)
    : undefined;

/** Step 2: holds a line's units at Inventory (the same reference answers the same reservation). */
async function reserve(ctx: PharmacyContext, fillId: string, line: Line): Promise<Reservation> {
  const reference = `${fillId}/${line.position}`;
  const res = await ctx.inventory.request<Reservation & { requested?: number; available?: number }>(
    'POST',
    '/api/v1/inventory/reservations',
    {
      asService: true,
      headers: { 'idempotency-key': reference },
      body: { itemId: line.itemId, quantity: line.quantity, reference },
    },
  );
  if (res.status === 200 || res.status === 201) return res.body;
  if (problemCode(res.body) === 'insufficient_stock')
    throw new Rejection(
      `insufficient stock: ${line.quantity} requested, ${res.body.available ?? 0} available of inventory item ${line.itemId}`,
    );
  throw new Rejection(
    `inventory refused the reservation (${res.status} ${problemCode(res.body) ?? ''})`.trim(),
  );
}

/** Step 3: confirms a held reservation; one that timed out or was released rejects the fill. */
async function confirm(ctx: PharmacyContext, reservationId: string): Promise<void> {
  const res = await ctx.inventory.request('POST', `/api/v1/inventory/reservations/${reservationId}/confirm`, {
    asService: true,
  });
  if (res.status === 200) return;
  const code = problemCode(res.body);
  throw new Rejection(
    code === 'reservation_expired' || code === 'reservation_released'
      ? 'reservation timeout'
      : `inventory refused to confirm the reservation (${res.status} ${code ?? ''})`.trim(),
  );
}

/**
 * Compensation of step 2: lets the held stock go (idempotent; unconfirmed holds also time out at
 * Inventory, confirmed ones never do). True once Inventory has nothing held for it any more:
 * released now or before, unknown to it, or already consumed (that stock left; only an
 * adjustment brings it back). False when Inventory could not answer: the release is still owed.
 */
async function release(ctx: PharmacyContext, reservationId: string): Promise<boolean> {
  try {
    const res = await ctx.inventory.request(
      'POST',
      `/api/v1/inventory/reservations/${reservationId}/release`,
      {
        asService: true,
      },
    );
    return (
      res.status === 200 ||
      res.status === 404 ||
      (res.status === 409 && problemCode(res.body) === 'reservation_consumed')
    );
  } catch {
    return false;
  }
}

/**
 * Runs (or resumes) the saga of a pending fill to its end: completed, or rejected with every step
 * compensated. Answers the fill as it ended; one already ended is answered as it is.
 */
export async function runSaga(ctx: PharmacyContext, fillId: string): Promise<store.StoredFill> {
  let fill = (await store.getFill(ctx.db, fillId)) as store.StoredFill;
  if (fill.state !== 'pending') return fill;
  try {
    for (const line of fill.lines) {
      if (line.reservationId) continue;
      const r = await reserve(ctx, fillId, line);
      const lots = r.lots.map((l) => ({ lotNumber: l.lotNumber, quantity: l.quantity }));
      await store.setLineReservation(ctx.db, fillId, line.position, r.id, lots);
    }
    fill = (await store.getFill(ctx.db, fillId)) as store.StoredFill;
    for (const line of fill.lines) await confirm(ctx, line.reservationId as string);
    await complete(ctx, fill);
  } catch (err) {
    const reason =
      err instanceof Rejection
        ? err.message
        : err instanceof AppError && err.status === 503
          ? 'inventory unavailable'
          : undefined;
    if (reason === undefined) throw err;
    await compensate(ctx, fillId, reason);
  }
  return (await store.getFill(ctx.db, fillId)) as store.StoredFill;
}

/** Step 4, in one transaction: the fill completed, its units dispensed, its events in the outbox. */
async function complete(ctx: PharmacyContext, fill: store.StoredFill): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    let prescription: Prescription | undefined;
    if (fill.prescriptionId) {
      prescription = await store.getPrescription(tx, fill.prescriptionId, true);
      // cancelled or expired while the stock was being reserved: the fill must not complete
      if (!prescription || !OPEN.includes(prescription.status))
        throw new Rejection(
          `the prescription was ${prescription?.status ?? 'removed'} while the fill was under way`,
        );
    }
    const current = (await store.getFill(tx, fill.id, true)) as store.StoredFill;
    if (current.state !== 'pending') return;
    await store.completeFill(tx, fill.id, now);
    if (prescription) {
      await store.dispenseItems(tx, prescription.id, fill.lines);
      const after = (await store.getPrescription(tx, prescription.id)) as Prescription;
      await store.setPrescriptionStatus(tx, prescription.id, statusAfterFill(after.items), now);
    }
    for (const line of current.lines)
      await appendToOutbox(tx, SOURCE, {
        type: 'medication.dispensed.v1',
        subject: line.reservationId as string,
        data: {
          dispenseId: line.dispenseId,
          medicationId: line.medicationId,
          ...(fill.prescriptionId ? { prescriptionId: fill.prescriptionId } : {}),
          ...(fill.patientId ? { patientId: fill.patientId } : {}),
          reservationId: line.reservationId as string,
          itemId: line.itemId,
          quantity: line.quantity,
          lots: line.lots,
          dispensedAt: now.toISOString(),
        },
      });
    if (prescription) {
      const saved = (await store.getPrescription(tx, prescription.id)) as Prescription;
      const done = (await store.getFill(tx, fill.id)) as store.StoredFill;
      await appendToOutbox(tx, SOURCE, {
        type: 'prescription.filled.v1',
        subject: prescription.id,
        data: { prescription: saved, fill: store.fillView(done) },
      });
    }
  });
}

/** Compensates every step done: reservations released, pending units given back, the fill rejected with its reason. */
async function compensate(ctx: PharmacyContext, fillId: string, reason: string): Promise<void> {
  const fill = (await store.getFill(ctx.db, fillId)) as store.StoredFill;
  // a release Inventory could not answer is owed: the resume job retries it (a confirmed hold
  // never times out, so dropping it would keep that stock held forever)
  const owed: number[] = [];
  for (const line of fill.lines)
    if (line.reservationId && !(await release(ctx, line.reservationId))) owed.push(line.position);
  await ctx.db.transaction(async (tx) => {
    const current = (await store.getFill(tx, fillId, true)) as store.StoredFill;
    if (current.state === 'completed') return;
    await store.markReleaseOwed(tx, fillId, owed);
    if (current.state !== 'pending') return;
    await store.rejectFill(tx, fillId, reason, ctx.clock.now());
    if (current.prescriptionId) await store.holdItems(tx, current.prescriptionId, current.lines, -1);
  });
}

/** The answer of a saga run: 201 with the completed fill, or 409 naming why it was rejected. */
function ended(f: store.StoredFill): store.StoredFill {
  if (f.state === 'rejected')
    throw PharmacyErrors.fill_rejected(f.rejectionReason ?? 'rejected', {
      extensions: { fillId: f.id, reason: f.rejectionReason },
    });
  return f;
}

function stockedOrRefuse(m: Medication | undefined): asserts m is Medication & { inventoryItemId: string } {
  if (m && !m.inventoryItemId)
    throw PharmacyErrors.medication_not_stocked(
      `${m.name} (${m.code}) names no inventory item to dispense from`,
      {
        extensions: { medicationId: m.id },
      },
    );
}

/** POST /prescriptions/{id}/fill. */
export async function fillPrescription(
  ctx: PharmacyContext,
  caller: Caller,
  id: string,
): Promise<{ fill: PrescriptionFill; patientId: string }> {
  authorize(caller, 'prescriptions:fill');
  const now = ctx.clock.now();
  const fillId = uuidv7();
  const patientId = await ctx.db.transaction(async (tx: Tx) => {
    const p = await store.getPrescription(tx, id, true);
    if (!p) throw PharmacyErrors.prescription_not_found();
    const refusal = fillRefusal(p, now);
    if (refusal) throw PharmacyErrors.not_fillable(refusal, { extensions: { prescriptionStatus: p.status } });
    const lines = fillLines(p.items);
    const meds = new Map(
      (
        await store.medicationsByIds(
          tx,
          lines.map((l) => l.medicationId),
        )
      ).map((m) => [m.id, m]),
    );
    for (const l of lines) stockedOrRefuse(meds.get(l.medicationId));
    await store.insertFill(
      tx,
      {
        id: fillId,
        kind: 'fill',
        prescriptionId: id,
        patientId: p.patientId,
        createdBy: caller.id,
        lines: lines.map((l) => ({
          ...l,
          itemId: meds.get(l.medicationId)?.inventoryItemId as string,
          dispenseId: uuidv7(),
        })),
      },
      now,
    );
    await store.holdItems(tx, id, lines, 1);
    return p.patientId;
  });
  const f = ended(await runSaga(ctx, fillId));
  return { fill: store.fillView(f), patientId };
}

const wardView = (f: store.StoredFill): WardDispense => ({
  ...store.fillView(f),
  medicationId: f.lines[0]?.medicationId as string,
  ...(f.patientId ? { patientId: f.patientId } : {}),
  note: f.note ?? '',
});

/** POST /medications/{id}/dispense: ward stock, without a prescription. */
export async function dispenseMedication(
  ctx: PharmacyContext,
  caller: Caller,
  medicationId: string,
  input: DispenseInput,
): Promise<WardDispense> {
  authorize(caller, 'medications:dispense');
  const note = input.reason.trim();
  if (!note) invalid([{ path: '/body/reason', message: 'must not be blank' }]);
  const m = await store.getMedication(ctx.db, medicationId);
  if (!m) throw PharmacyErrors.medication_not_found();
  stockedOrRefuse(m);
  if (!m.active)
    throw PharmacyErrors.medication_inactive(`${m.name} (${m.code}) is withdrawn from the formulary`);
  const fillId = uuidv7();
  await ctx.db.transaction(async (tx) =>
    store.insertFill(
      tx,
      {
        id: fillId,
        kind: 'dispense',
        patientId: input.patientId,
        note,
        createdBy: caller.id,
        lines: [{ medicationId, itemId: m.inventoryItemId, quantity: input.quantity, dispenseId: uuidv7() }],
      },
      ctx.clock.now(),
    ),
  );
  return wardView(ended(await runSaga(ctx, fillId)));
}

/** GET /medications/{id}/dispenses: completed dispenses of the medication, each with its lots. */
export async function listDispenses(
  ctx: PharmacyContext,
  caller: Caller,
  medicationId: string,
  q: { limit?: number | undefined; cursor?: string | undefined },
) {
  authorize(caller, 'medications:read');
  if (!(await store.getMedication(ctx.db, medicationId))) throw PharmacyErrors.medication_not_found();
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([k]) => typeof k === 'string' && isUuid(k))?.[0] as
    string | undefined;
  const rows = await store.dispensesOf(ctx.db, medicationId, { after, limit });
  return toPage(rows, limit, (d) => [d.dispenseId]);
}

/** How long a fill may stay pending before the resume job takes it over (its request has surely ended). */
export const RESUME_AFTER_MS = 60_000;

/**
 * The resume job: pending fills of a Pharmacy that stopped mid-saga are finished or compensated,
 * and releases a compensation owes (Inventory was unreachable then) are retried until Inventory
 * confirms them. Answers how many fills and releases it settled.
 */
export async function resumePendingFills(ctx: PharmacyContext): Promise<number> {
  const before = new Date(ctx.clock.now().getTime() - RESUME_AFTER_MS);
  const ids = await store.stalePendingFills(ctx.db, before, 50);
  for (const id of ids) await runSaga(ctx, id);
  return ids.length + (await retryOwedReleases(ctx));
}

/** Retries the releases compensation could not make; stops at the first Inventory cannot answer. */
export async function retryOwedReleases(ctx: PharmacyContext): Promise<number> {
  let settled = 0;
  for (const o of await store.owedReleases(ctx.db, 50)) {
    if (!(await release(ctx, o.reservationId))) break;
    await store.clearReleaseOwed(ctx.db, o.fillId, o.position);
    settled += 1;
  }
  return settled;
}
