import type { InventoryItem, PurchaseOrder, ReceiptInput, ReorderInput } from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
} from '@hms/platform';
import { receivedLotProblems } from './domain/stock.js';
import { InventoryErrors } from './errors.js';
import { SOURCE, lockItem, settleStock, today, viewOf, type InventoryContext } from './items.js';
import * as store from './store.js';

/**
 * Purchase orders: a reorder places one (202: the supplier delivers later), a receipt adds its
 * lot to the item once and publishes `inventory.stock-replenished.v1`. Both need
 * `inventory:approve`: they commit money and add stock.
 */

export async function reorder(
  ctx: InventoryContext,
  caller: Caller,
  itemId: string,
  input: ReorderInput,
): Promise<PurchaseOrder> {
  authorize(caller, 'inventory:approve');
  const note = input.note?.trim() || undefined;
  if (input.note !== undefined && !note) invalid([{ path: '/body/note', message: 'must not be blank' }]);
  const item = await store.getItem(ctx.db, itemId);
  if (!item) throw InventoryErrors.item_not_found();
  return store.insertOrder(ctx.db, {
    id: uuidv7(),
    itemId,
    quantity: input.quantity ?? item.reorderQuantity,
    ...(item.supplier !== undefined ? { supplier: item.supplier } : {}),
    ...(note ? { note } : {}),
    by: caller.id,
    now: ctx.clock.now(),
  });
}

export async function getOrder(ctx: InventoryContext, caller: Caller, id: string): Promise<PurchaseOrder> {
  authorize(caller, 'inventory:read');
  const order = await store.getOrder(ctx.db, id);
  if (!order) throw InventoryErrors.order_not_found();
  return order;
}

export async function listOrders(
  ctx: InventoryContext,
  caller: Caller,
  q: {
    itemId?: string | undefined;
    status?: PurchaseOrder['status'] | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
) {
  authorize(caller, 'inventory:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listOrders(ctx.db, { itemId: q.itemId, status: q.status }, { after, limit });
  return toPage(rows, limit, (o) => [o.id]);
}

/**
 * POST /inventory/orders/{id}/receive: the delivery's lot joins the item (a lot number it has
 * already must carry the same expiry), a receipt in the ledger. An expiry already past is a 400;
 * receiving an order twice, a 409.
 */
export async function receiveOrder(
  ctx: InventoryContext,
  caller: Caller,
  id: string,
  input: ReceiptInput,
): Promise<{ order: PurchaseOrder; item: InventoryItem }> {
  authorize(caller, 'inventory:approve');
  const problems = receivedLotProblems([input], today(ctx), () => '/body');
  if (problems.length > 0) invalid(problems);
  const placed = await store.getOrder(ctx.db, id);
  if (!placed) throw InventoryErrors.order_not_found();
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const item = await lockItem(tx, placed.itemId);
    const order = (await store.getOrder(tx, id, true)) as PurchaseOrder;
    if (order.status === 'received')
      throw InventoryErrors.order_already_received('a purchase order is received once', {
        extensions: { orderId: order.id, receipt: order.receipt },
      });
    const expiry = await store.ensureLot(tx, item.id, input, now);
    if (expiry !== input.expiry)
      throw InventoryErrors.lot_expiry_conflict(`lot ${input.lotNumber} of this item expires ${expiry}`, {
        extensions: { lotNumber: input.lotNumber, expiry },
      });
    const quantity = input.quantity ?? order.quantity;
    await store.changeLot(tx, item.id, input.lotNumber, quantity, {
      reason: 'receipt',
      actor: caller.id,
      at: now,
      orderId: order.id,
    });
    const received = await store.markReceived(tx, id, { ...input, quantity, by: caller.id, at: now });
    await store.setLastRestock(tx, item.id, now);
    const view = await viewOf(ctx, tx, { ...item, lastRestockAt: now.toISOString() });
    await appendToOutbox(tx, SOURCE, {
      type: 'inventory.stock-replenished.v1',
      subject: item.id,
      data: { item: view, order: received },
    });
    await settleStock(ctx, tx, item);
    return { order: received, item: view };
  });
}
