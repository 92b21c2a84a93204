import type { Reservation, ReservationInput } from '@hms/contracts';
import { authorize, invalid, uuidv7, type Caller, type Tx } from '@hms/platform';
import { localDate, pickLots } from './domain/stock.js';
import { InventoryErrors } from './errors.js';
import { isUniqueViolation, lockItem, settleStock, type InventoryContext } from './items.js';
import * as store from './store.js';

/**
 * Reservations: the stock side of the Pharmacy's dispensing saga (docs/adr/0012). A reservation
 * holds units of the lots picked when it is made (earliest-expiring usable first, split across
 * lots); it is confirmed by the Pharmacy before it dispenses (a confirmed hold no longer times
 * out), consumed by the `medication.dispensed.v1` that names it (events.ts), or released: by the
 * caller (compensation) or, while only held, by the TTL job. Every step locks the item first.
 */

/** The same reference asks for the same reservation: answered as it is, or 409 when it asked for other stock. */
function replay(existing: Reservation, input: ReservationInput): Reservation {
  if (existing.itemId !== input.itemId || existing.quantity !== input.quantity)
    throw InventoryErrors.reference_in_use(
      `reference ${input.reference} names reservation ${existing.id} of ${existing.quantity} unit(s) of item ${existing.itemId}`,
      { extensions: { reservationId: existing.id } },
    );
  return existing;
}

/**
 * POST /inventory/reservations: holds `quantity` units for `reference`, or answers the
 * reservation that reference already has (`created: false`). Short usable stock: 409 naming how
 * much there is. A lot counts only if still usable on the hold's last day (in the facility's
 * time zone), so a hold never outlives its lots and an expired lot is never held.
 */
export async function reserve(
  ctx: InventoryContext,
  caller: Caller,
  input: ReservationInput,
): Promise<{ reservation: Reservation; created: boolean }> {
  authorize(caller, 'inventory:write');
  if (!input.reference.trim()) invalid([{ path: '/body/reference', message: 'must not be blank' }]);
  const known = await store.reservationByReference(ctx.db, input.reference);
  if (known) return { reservation: replay(known, input), created: false };
  const now = ctx.clock.now();
  const expiresAt = new Date(
    now.getTime() + (input.ttlSec ?? ctx.config.INVENTORY_RESERVATION_TTL_SEC) * 1000,
  );
  try {
    return await ctx.db.transaction(async (tx) => {
      const item = await store.getItem(tx, input.itemId, true);
      if (!item) invalid([{ path: '/body/itemId', message: 'no inventory item has this id' }]);
      // the same reference may have committed while this request waited for the item's lock
      const raced = await store.reservationByReference(tx, input.reference);
      if (raced) return { reservation: replay(raced, input), created: false };
      const lots = await store.lotsOf(tx, item.id, true);
      const { picks, available } = pickLots(
        lots,
        input.quantity,
        localDate(expiresAt, ctx.facility.timezone),
      );
      if (!picks)
        throw InventoryErrors.insufficient_stock(
          `${input.quantity} unit(s) asked for, ${available} usable and free`,
          { extensions: { itemId: item.id, requested: input.quantity, available } },
        );
      const id = uuidv7();
      await store.insertReservation(tx, {
        id,
        itemId: item.id,
        quantity: input.quantity,
        reference: input.reference,
        expiresAt,
        now,
        picks,
      });
      await store.holdLots(tx, item.id, picks, 1);
      await settleStock(ctx, tx, item);
      return { reservation: (await store.getReservation(tx, id)) as Reservation, created: true };
    });
  } catch (err) {
    // the same reference for another item, committed meanwhile (the unique index decided)
    if (!isUniqueViolation(err)) throw err;
    const existing = await store.reservationByReference(ctx.db, input.reference);
    if (!existing) throw err;
    return { reservation: replay(existing, input), created: false };
  }
}

export async function getReservation(
  ctx: InventoryContext,
  caller: Caller,
  id: string,
): Promise<Reservation> {
  authorize(caller, 'inventory:read');
  const r = await store.getReservation(ctx.db, id);
  if (!r) throw InventoryErrors.reservation_not_found();
  return r;
}

/** Runs `step` on a reservation with its item locked first (the fixed lock order), in one transaction. */
export async function withReservation<T>(
  ctx: InventoryContext,
  id: string,
  step: (tx: Tx, r: Reservation, item: store.ItemRow) => Promise<T>,
): Promise<T> {
  const itemId = await store.itemOfReservation(ctx.db, id);
  if (!itemId) throw InventoryErrors.reservation_not_found();
  return ctx.db.transaction(async (tx) => {
    const item = await lockItem(tx, itemId);
    const r = (await store.getReservation(tx, id)) as Reservation;
    return step(tx, r, item);
  });
}

function refusedState(r: Reservation): never {
  if (r.state === 'released')
    throw InventoryErrors.reservation_released(
      r.releaseReason === 'expired' ? 'its TTL passed and the TTL job released it' : 'its caller released it',
      { extensions: { reservationId: r.id, releaseReason: r.releaseReason, releasedAt: r.releasedAt } },
    );
  throw InventoryErrors.reservation_consumed(
    `dispense ${r.dispenseId} took its stock; bring stock back with a 'returned' adjustment`,
    { extensions: { reservationId: r.id, dispenseId: r.dispenseId, consumedAt: r.consumedAt } },
  );
}

/**
 * POST /inventory/reservations/{id}/confirm: the Pharmacy is about to dispense. A confirmed hold
 * no longer times out; it ends consumed by the dispense event, or released by the caller. A hold
 * past its TTL is not confirmed (409), even before the TTL job released it. Confirming twice
 * answers the confirmed reservation.
 */
export function confirmReservation(ctx: InventoryContext, caller: Caller, id: string): Promise<Reservation> {
  authorize(caller, 'inventory:write');
  const now = ctx.clock.now();
  return withReservation(ctx, id, async (tx, r) => {
    if (r.state === 'confirmed') return r;
    if (r.state !== 'held') refusedState(r);
    if (Date.parse(r.expiresAt) <= now.getTime())
      throw InventoryErrors.reservation_expired('its TTL has passed; reserve again', {
        extensions: { reservationId: r.id, expiresAt: r.expiresAt },
      });
    await store.setReservationState(tx, id, 'confirmed', now);
    return (await store.getReservation(tx, id)) as Reservation;
  });
}

/** Lets go of a held or confirmed reservation's units; the caller has the item locked. */
async function release(
  ctx: InventoryContext,
  tx: Tx,
  r: Reservation,
  item: store.ItemRow,
  reason: 'released' | 'expired',
): Promise<Reservation> {
  await store.lotsOf(tx, item.id, true);
  await store.holdLots(tx, item.id, r.lots, -1);
  await store.setReservationState(tx, r.id, 'released', ctx.clock.now(), { releaseReason: reason });
  await settleStock(ctx, tx, item);
  return (await store.getReservation(tx, r.id)) as Reservation;
}

/**
 * POST /inventory/reservations/{id}/release: the saga's compensation. A released reservation
 * answers as it is (releasing twice is harmless); a consumed one is 409: that stock left, and
 * comes back only by an adjustment (`returned`).
 */
export function releaseReservation(ctx: InventoryContext, caller: Caller, id: string): Promise<Reservation> {
  authorize(caller, 'inventory:write');
  return withReservation(ctx, id, async (tx, r, item) => {
    if (r.state === 'released') return r;
    if (r.state === 'consumed') refusedState(r);
    return release(ctx, tx, r, item, 'released');
  });
}

/**
 * The TTL job: held reservations past their expiry are released (`expired`), one transaction
 * each, re-checked under the item's lock (a confirmation may have won). Answers how many.
 */
export async function releaseExpiredReservations(ctx: InventoryContext, batch = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await store.dueReservations(ctx.db, ctx.clock.now(), batch);
    for (const id of due) {
      const released = await withReservation(ctx, id, async (tx, r, item) => {
        if (r.state !== 'held' || Date.parse(r.expiresAt) > ctx.clock.now().getTime()) return false;
        await release(ctx, tx, r, item, 'expired');
        return true;
      });
      if (released) total += 1;
    }
    if (due.length < batch) return total;
  }
}
