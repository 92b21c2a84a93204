import type { AdjustmentInput, EventEnvelope, LedgerEntry, Reservation } from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
  decodeCursor,
  invalid,
  isUuid,
  PermanentEventError,
  toPage,
  type Caller,
  type Tx,
} from '@hms/platform';
import { adjustmentProblems, isExpired, sameLots } from './domain/stock.js';
import { InventoryErrors } from './errors.js';
import {
  SOURCE,
  SYSTEM_ACTOR,
  lockItem,
  settleStock,
  today,
  viewOf,
  type InventoryContext,
} from './items.js';
import * as store from './store.js';

/**
 * The ledger's writers besides receipts: adjustments by hand, the expiry job's write-offs and
 * the dispenses that consume reservations. Each changes lots through `store.changeLot` (the lot
 * and its entry in one statement) with the item locked first.
 */

async function publishAdjusted(ctx: InventoryContext, tx: Tx, item: store.ItemRow, entry: LedgerEntry) {
  await appendToOutbox(tx, SOURCE, {
    type: 'inventory.stock-adjusted.v1',
    subject: item.id,
    data: { item: await viewOf(ctx, tx, item), adjustment: entry },
  });
}

/**
 * POST /inventory/{id}/adjustments: a signed change of one lot with its reason, as a ledger
 * entry, published. An unknown lot is a 400; a change that would take the lot below zero, or
 * below what reservations hold of it, a 409 naming the lot's figures.
 */
export async function adjustStock(
  ctx: InventoryContext,
  caller: Caller,
  itemId: string,
  input: AdjustmentInput,
): Promise<LedgerEntry> {
  authorize(caller, 'inventory:write');
  const note = input.note?.trim() || undefined;
  const problems = adjustmentProblems(input.quantity, input.reason);
  if (input.note !== undefined && !note) problems.push({ path: '/body/note', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  return ctx.db.transaction(async (tx) => {
    const item = await lockItem(tx, itemId);
    const lot = (await store.lotsOf(tx, itemId, true)).find((l) => l.lotNumber === input.lotNumber);
    if (!lot) invalid([{ path: '/body/lotNumber', message: 'the item has no lot with this number' }]);
    if (lot.quantity + input.quantity < lot.reserved)
      throw InventoryErrors.insufficient_lot_stock(
        `lot ${lot.lotNumber} holds ${lot.quantity} unit(s), ${lot.reserved} of them reserved: at most ${lot.quantity - lot.reserved} can be taken out`,
        { extensions: { lotNumber: lot.lotNumber, quantity: lot.quantity, reserved: lot.reserved } },
      );
    const entry = await store.changeLot(tx, itemId, lot.lotNumber, input.quantity, {
      reason: input.reason,
      note,
      actor: caller.id,
      at: ctx.clock.now(),
    });
    await publishAdjusted(ctx, tx, item, entry);
    await settleStock(ctx, tx, item);
    return entry;
  });
}

export async function listLedger(
  ctx: InventoryContext,
  caller: Caller,
  itemId: string,
  q: { limit?: number | undefined; cursor?: string | undefined },
) {
  authorize(caller, 'inventory:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  if (!(await store.getItem(ctx.db, itemId))) throw InventoryErrors.item_not_found();
  const rows = await store.listLedger(ctx.db, itemId, { after, limit });
  return toPage(rows, limit, (e) => [e.id]);
}

/**
 * The expiry job: a lot whose last usable day has passed (in the facility's time zone) has its
 * unreserved units written off by an `expired` entry, published as an adjustment. Units still
 * reserved stay until their reservation ends; released, the next run writes them off. One
 * transaction per item. Answers how many lots it wrote off.
 */
export async function writeOffExpiredLots(ctx: InventoryContext, batch = 50): Promise<number> {
  let total = 0;
  for (;;) {
    const day = today(ctx);
    const itemIds = await store.itemsWithExpiredStock(ctx.db, day, batch);
    for (const itemId of itemIds) {
      total += await ctx.db.transaction(async (tx) => {
        const item = await lockItem(tx, itemId);
        const lots = await store.lotsOf(tx, itemId, true);
        let n = 0;
        for (const lot of lots) {
          if (!isExpired(lot.expiry, day) || lot.quantity <= lot.reserved) continue;
          const entry = await store.changeLot(tx, itemId, lot.lotNumber, lot.reserved - lot.quantity, {
            reason: 'expired',
            note: `last usable day ${lot.expiry} passed`,
            actor: SYSTEM_ACTOR,
            at: ctx.clock.now(),
          });
          await publishAdjusted(ctx, tx, item, entry);
          n += 1;
        }
        await settleStock(ctx, tx, item);
        return n;
      });
    }
    if (itemIds.length < batch) return total;
  }
}

/** What Inventory reads of `medication.dispensed.v1` (its schema: packages/contracts/src/pharmacy.ts). */
interface Dispensed {
  dispenseId: string;
  reservationId: string;
  itemId: string;
  quantity: number;
  lots: { lotNumber: string; quantity: number }[];
  dispensedAt: string;
}

/**
 * `medication.dispensed.v1`: the reservation it names becomes a decrement of exactly the lots it
 * holds, once. The kit's inbox drops a redelivered event; a reservation consumed already (by this
 * event or any other) is never consumed again. An event that disagrees with the reservation (an
 * unknown or released one, other lots, another item) cannot be fixed by a retry: it goes to the
 * dead-letter queue with its reason, for a person to reconcile, and stock stays as it was.
 */
export async function consumeReservation(
  ctx: InventoryContext,
  tx: Tx,
  envelope: EventEnvelope,
): Promise<void> {
  const d = envelope.data as Dispensed;
  const itemId = await store.itemOfReservation(tx, d.reservationId);
  if (!itemId) throw new PermanentEventError(`reservation ${d.reservationId} does not exist`);
  if (itemId !== d.itemId)
    throw new PermanentEventError(`reservation ${d.reservationId} is of item ${itemId}, not ${d.itemId}`);
  const item = await lockItem(tx, itemId);
  const r = (await store.getReservation(tx, d.reservationId)) as Reservation;
  if (r.state === 'consumed') return;
  if (r.state === 'released')
    throw new PermanentEventError(
      `reservation ${r.id} was released (${r.releaseReason ?? 'released'}) before dispense ${d.dispenseId}`,
    );
  if (r.quantity !== d.quantity || !sameLots(r.lots, d.lots))
    throw new PermanentEventError(
      `dispense ${d.dispenseId} names other lots or quantity than reservation ${r.id}`,
    );
  const at = ctx.clock.now();
  const actor = `svc:${envelope.source.replace(/^\/hms\//, '')}`;
  await store.lotsOf(tx, itemId, true);
  const ordered = [...r.lots].sort((a, b) => (a.lotNumber < b.lotNumber ? -1 : 1));
  for (const lot of ordered)
    await store.changeLot(
      tx,
      itemId,
      lot.lotNumber,
      -lot.quantity,
      { reason: 'dispense', actor, at, reservationId: r.id, dispenseId: d.dispenseId },
      lot.quantity,
    );
  await store.setReservationState(tx, r.id, 'consumed', at, { dispenseId: d.dispenseId });
  await settleStock(ctx, tx, item);
}
