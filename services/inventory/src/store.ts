import type {
  ExpiringLot,
  InventoryItemInput,
  LedgerEntry,
  LedgerReason,
  PurchaseOrder,
  Reservation,
  ReservationState,
} from '@hms/contracts';
import { rowMapper, sqlParams, uuidv7, type Queryable, type Tx } from '@hms/platform';
import type { LotPick, StockLot } from './domain/stock.js';

/**
 * The only module of the Inventory service that speaks SQL (STYLE.md §5). Every write of an
 * item's stock runs after `lockItem` in its transaction (the fixed lock order: the item's row,
 * then its lots in lot-number order), and every change of a lot's quantity goes through
 * `changeLot`, which writes the lot and its ledger entry in one statement.
 */

// ---- items

const ITEM_COLUMNS = `id, sku, name, category, unit, reorder_threshold, reorder_quantity, supplier,
  last_restock_at, low_armed, version, created_at, updated_at`;

/** An item's record as stored; its stock figures come from its lots. */
export interface ItemRow extends InventoryItemInput {
  id: string;
  lastRestockAt?: string;
  lowArmed: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}
const toItem = rowMapper<ItemRow>(ITEM_COLUMNS);

export async function insertItem(tx: Queryable, id: string, input: InventoryItemInput, now: Date) {
  const { rows } = await tx.query(
    `INSERT INTO items (id, sku, name, category, unit, reorder_threshold, reorder_quantity, supplier,
        created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ${ITEM_COLUMNS}`,
    [
      id,
      input.sku,
      input.name,
      input.category,
      input.unit,
      input.reorderThreshold,
      input.reorderQuantity,
      input.supplier ?? null,
      now,
    ],
  );
  return toItem(rows[0] as object);
}

/** The item's row; with `lock`, locked for the rest of the transaction (first in the lock order). */
export async function getItem(db: Queryable, id: string, lock = false): Promise<ItemRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${ITEM_COLUMNS} FROM items WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
    { prepare: true },
  );
  return rows[0] ? toItem(rows[0]) : undefined;
}

export async function itemIdBySku(db: Queryable, sku: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM items WHERE sku = $1', [sku]);
  return rows[0]?.id;
}

/** Replaces the record's writable fields and bumps its version. */
export async function updateItem(tx: Queryable, id: string, input: InventoryItemInput, now: Date) {
  const { rows } = await tx.query(
    `UPDATE items SET sku = $2, name = $3, category = $4, unit = $5, reorder_threshold = $6,
        reorder_quantity = $7, supplier = $8, version = version + 1, updated_at = $9
      WHERE id = $1 RETURNING ${ITEM_COLUMNS}`,
    [
      id,
      input.sku,
      input.name,
      input.category,
      input.unit,
      input.reorderThreshold,
      input.reorderQuantity,
      input.supplier ?? null,
      now,
    ],
  );
  return toItem(rows[0] as object);
}

export async function setLowArmed(tx: Tx, id: string, armed: boolean): Promise<void> {
  await tx.defer('UPDATE items SET low_armed = $2 WHERE id = $1', [id, armed]);
}

export async function setLastRestock(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.defer('UPDATE items SET last_restock_at = $2 WHERE id = $1', [id, at]);
}

/** Items in id order (UUIDv7: creation order), of one category when given, keyset-paged. */
export async function listItems(
  db: Queryable,
  filter: { category?: string | undefined },
  page: { after?: string | undefined; limit: number },
): Promise<ItemRow[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (filter.category !== undefined) where.push(`category = ${bind(filter.category)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${ITEM_COLUMNS} FROM items WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toItem(r as object));
}

// ---- lots

const LOT_SELECT = `item_id, lot_number, to_char(expiry, 'YYYY-MM-DD') AS expiry, quantity, reserved`;
export interface LotRow extends StockLot {
  itemId: string;
}
const toLot = rowMapper<LotRow>('item_id, lot_number, expiry, quantity, reserved');

/**
 * Every lot of an item; with `lock`, locked in lot-number order (the lock order's second step:
 * run it after locking the item).
 */
export async function lotsOf(db: Queryable, itemId: string, lock = false): Promise<LotRow[]> {
  const { rows } = await db.query(
    `SELECT ${LOT_SELECT} FROM lots WHERE item_id = $1 ORDER BY lot_number${lock ? ' FOR UPDATE' : ''}`,
    [itemId],
    { prepare: true },
  );
  return rows.map((r) => toLot(r as object));
}

/** The lots holding stock of several items (a page of the list), grouped by item. */
export async function stockedLotsOf(
  db: Queryable,
  itemIds: readonly string[],
): Promise<Map<string, LotRow[]>> {
  const out = new Map<string, LotRow[]>();
  if (itemIds.length === 0) return out;
  const { rows } = await db.query(
    `SELECT ${LOT_SELECT} FROM lots WHERE item_id = ANY ($1::uuid[]) AND quantity > 0
      ORDER BY item_id, lot_number`,
    [itemIds],
  );
  for (const r of rows) {
    const lot = toLot(r);
    out.set(lot.itemId, [...(out.get(lot.itemId) ?? []), lot]);
  }
  return out;
}

/** Creates an empty lot unless the item has one of that number; answers the lot's expiry either way. */
export async function ensureLot(
  tx: Queryable,
  itemId: string,
  lot: { lotNumber: string; expiry: string },
  now: Date,
): Promise<string> {
  const { rows } = await tx.query<{ expiry: string }>(
    `WITH made AS (
       INSERT INTO lots (item_id, lot_number, expiry, quantity, created_at) VALUES ($1, $2, $3, 0, $4)
       ON CONFLICT (item_id, lot_number) DO NOTHING RETURNING to_char(expiry, 'YYYY-MM-DD') AS expiry)
     SELECT expiry FROM made
     UNION ALL SELECT to_char(expiry, 'YYYY-MM-DD') FROM lots WHERE item_id = $1 AND lot_number = $2
     LIMIT 1`,
    [itemId, lot.lotNumber, lot.expiry, now],
  );
  return (rows[0] as { expiry: string }).expiry;
}

/** What a ledger entry records beside the change itself. */
export interface LedgerFacts {
  reason: LedgerReason;
  actor: string;
  at: Date;
  note?: string | undefined;
  reservationId?: string | undefined;
  dispenseId?: string | undefined;
  orderId?: string | undefined;
}

const LEDGER_COLUMNS = `id, item_id, lot_number, quantity, lot_quantity_after, reason, note, reservation_id,
  dispense_id, order_id, actor, at`;
const toEntry = rowMapper<LedgerEntry>(LEDGER_COLUMNS);

/**
 * Changes a lot's quantity by `delta` and writes its ledger entry, in one statement, so the two
 * cannot part. `fromReserved` takes the change out of the lot's reserved units too (a dispense
 * of held stock). The CHECKs refuse a lot going negative or below what it holds reserved
 * (SQLSTATE 23514): the caller checked before, the database guarantees it.
 */
export async function changeLot(
  tx: Queryable,
  itemId: string,
  lotNumber: string,
  delta: number,
  facts: LedgerFacts,
  fromReserved = 0,
): Promise<LedgerEntry> {
  const { rows } = await tx.query(
    `WITH changed AS (
       UPDATE lots SET quantity = quantity + $4, reserved = reserved - $5
        WHERE item_id = $2 AND lot_number = $3 RETURNING quantity)
     INSERT INTO ledger (id, item_id, lot_number, quantity, lot_quantity_after, reason, note,
        reservation_id, dispense_id, order_id, actor, at)
     SELECT $1, $2, $3, $4, changed.quantity, $6, $7, $8, $9, $10, $11, $12 FROM changed
     RETURNING ${LEDGER_COLUMNS}`,
    [
      uuidv7(),
      itemId,
      lotNumber,
      delta,
      fromReserved,
      facts.reason,
      facts.note ?? null,
      facts.reservationId ?? null,
      facts.dispenseId ?? null,
      facts.orderId ?? null,
      facts.actor,
      facts.at,
    ],
  );
  if (!rows[0]) throw new Error(`lot ${lotNumber} of item ${itemId} does not exist`);
  return toEntry(rows[0]);
}

/** Holds (`sign` 1) or lets go of (`sign` -1) units of lots of an item. */
export async function holdLots(
  tx: Queryable,
  itemId: string,
  lots: readonly { lotNumber: string; quantity: number }[],
  sign: 1 | -1,
): Promise<void> {
  await tx.query(
    `UPDATE lots SET reserved = lots.reserved + $2 * h.quantity
       FROM unnest($3::text[], $4::int[]) AS h(lot_number, quantity)
      WHERE lots.item_id = $1 AND lots.lot_number = h.lot_number`,
    [itemId, sign, lots.map((l) => l.lotNumber), lots.map((l) => l.quantity)],
  );
}

/** Lots whose last usable day is before `today` with unreserved units left: what the expiry job writes off. */
export async function itemsWithExpiredStock(db: Queryable, today: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ item_id: string }>(
    `SELECT DISTINCT item_id FROM lots WHERE expiry < $1 AND quantity > reserved ORDER BY item_id LIMIT $2`,
    [today, limit],
  );
  return rows.map((r) => r.item_id);
}

/** Lots holding stock whose last usable day is before `before`, by expiry, keyset-paged on [expiry, item, lot]. */
export async function listExpiringLots(
  db: Queryable,
  filter: { before: string; category?: string | undefined },
  page: { after?: [string, string, string] | undefined; limit: number },
): Promise<Omit<ExpiringLot, 'expired'>[]> {
  const { params, bind } = sqlParams();
  const where = [`l.expiry < ${bind(filter.before)}`, 'l.quantity > 0'];
  if (filter.category !== undefined) where.push(`i.category = ${bind(filter.category)}`);
  if (page.after)
    where.push(
      `(l.expiry, l.item_id, l.lot_number) > (${bind(page.after[0])}::date, ${bind(page.after[1])}::uuid, ${bind(page.after[2])})`,
    );
  const { rows } = await db.query(
    `SELECT l.item_id, i.sku, i.name, i.unit, l.lot_number, to_char(l.expiry, 'YYYY-MM-DD') AS expiry,
            l.quantity, l.reserved
       FROM lots l JOIN items i ON i.id = l.item_id
      WHERE ${where.join(' AND ')}
      ORDER BY l.expiry, l.item_id, l.lot_number LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  const map = rowMapper<Omit<ExpiringLot, 'expired'>>(
    'item_id, sku, name, unit, lot_number, expiry, quantity, reserved',
  );
  return rows.map((r) => map(r as object));
}

// ---- the ledger

/** An item's ledger in the order it was written (id: UUIDv7), keyset-paged. */
export async function listLedger(
  db: Queryable,
  itemId: string,
  page: { after?: string | undefined; limit: number },
): Promise<LedgerEntry[]> {
  const { params, bind } = sqlParams();
  const where = [`item_id = ${bind(itemId)}`];
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${LEDGER_COLUMNS} FROM ledger WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toEntry(r as object));
}

// ---- reservations

const RESERVATION_COLUMNS = `id, item_id, quantity, reference, state, expires_at, created_at, confirmed_at,
  consumed_at, dispense_id, released_at, release_reason`;
const toReservation = rowMapper<Omit<Reservation, 'lots'>>(RESERVATION_COLUMNS);

export async function insertReservation(
  tx: Queryable,
  r: {
    id: string;
    itemId: string;
    quantity: number;
    reference: string;
    expiresAt: Date;
    now: Date;
    picks: readonly LotPick[];
  },
): Promise<void> {
  await tx.query(
    `WITH r AS (
       INSERT INTO reservations (id, item_id, quantity, reference, state, expires_at, created_at)
       VALUES ($1, $2, $3, $4, 'held', $5, $6) RETURNING id)
     INSERT INTO reservation_lots (reservation_id, item_id, lot_number, quantity)
     SELECT r.id, $2, p.lot_number, p.quantity FROM r, unnest($7::text[], $8::int[]) AS p(lot_number, quantity)`,
    [
      r.id,
      r.itemId,
      r.quantity,
      r.reference,
      r.expiresAt,
      r.now,
      r.picks.map((p) => p.lotNumber),
      r.picks.map((p) => p.quantity),
    ],
  );
}

async function reservationWhere(
  db: Queryable,
  where: string,
  value: string,
): Promise<Reservation | undefined> {
  const { rows } = await db.query(
    `SELECT ${RESERVATION_COLUMNS.split(',')
      .map((c) => `r.${c.trim()}`)
      .join(', ')},
        (SELECT coalesce(jsonb_agg(jsonb_build_object('lotNumber', rl.lot_number,
                  'expiry', to_char(l.expiry, 'YYYY-MM-DD'), 'quantity', rl.quantity)
                ORDER BY l.expiry, rl.lot_number), '[]')
           FROM reservation_lots rl JOIN lots l ON l.item_id = rl.item_id AND l.lot_number = rl.lot_number
          WHERE rl.reservation_id = r.id) AS lots
       FROM reservations r WHERE ${where}`,
    [value],
  );
  const row = rows[0] as (Record<string, unknown> & { lots: Reservation['lots'] }) | undefined;
  return row ? { ...toReservation(row), lots: row.lots } : undefined;
}

export const getReservation = (db: Queryable, id: string) => reservationWhere(db, 'r.id = $1', id);
export const reservationByReference = (db: Queryable, reference: string) =>
  reservationWhere(db, 'r.reference = $1', reference);

/** Which item a reservation is of (to lock the item first), if the reservation exists. */
export async function itemOfReservation(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ item_id: string }>('SELECT item_id FROM reservations WHERE id = $1', [
    id,
  ]);
  return rows[0]?.item_id;
}

/** Moves a reservation to a new state with the facts of that step. */
export async function setReservationState(
  tx: Queryable,
  id: string,
  state: Exclude<ReservationState, 'held'>,
  at: Date,
  extra: { releaseReason?: 'released' | 'expired'; dispenseId?: string } = {},
): Promise<void> {
  // the column that records when it took this step
  const column = { confirmed: 'confirmed_at', consumed: 'consumed_at', released: 'released_at' }[state];
  await tx.query(
    `UPDATE reservations SET state = $2, ${column} = $3, release_reason = coalesce($4, release_reason),
        dispense_id = coalesce($5, dispense_id)
      WHERE id = $1`,
    [id, state, at, extra.releaseReason ?? null, extra.dispenseId ?? null],
  );
}

/** Held reservations whose TTL has passed, oldest first: what the TTL job releases. */
export async function dueReservations(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM reservations WHERE state = 'held' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => r.id);
}

// ---- purchase orders

const ORDER_COLUMNS = `id, item_id, quantity, supplier, note, status, ordered_by, ordered_at, received_lot,
  to_char(received_expiry, 'YYYY-MM-DD') AS received_expiry, received_quantity, received_by, received_at`;
const toOrderRow = rowMapper<Record<string, unknown>>(
  'id, item_id, quantity, supplier, note, status, ordered_by, ordered_at, received_lot, received_expiry, received_quantity, received_by, received_at',
);

function toOrder(row: object): PurchaseOrder {
  const r = toOrderRow(row);
  const { receivedLot, receivedExpiry, receivedQuantity, receivedBy, receivedAt, ...order } = r;
  return {
    ...(order as Omit<PurchaseOrder, 'receipt'>),
    ...(receivedAt !== undefined
      ? {
          receipt: {
            lotNumber: receivedLot as string,
            expiry: receivedExpiry as string,
            quantity: receivedQuantity as number,
            receivedBy: receivedBy as string,
            receivedAt: receivedAt as string,
          },
        }
      : {}),
  };
}

export async function insertOrder(
  tx: Queryable,
  o: {
    id: string;
    itemId: string;
    quantity: number;
    supplier?: string;
    note?: string;
    by: string;
    now: Date;
  },
): Promise<PurchaseOrder> {
  const { rows } = await tx.query(
    `INSERT INTO purchase_orders (id, item_id, quantity, supplier, note, status, ordered_by, ordered_at)
     VALUES ($1, $2, $3, $4, $5, 'ordered', $6, $7) RETURNING ${ORDER_COLUMNS}`,
    [o.id, o.itemId, o.quantity, o.supplier ?? null, o.note ?? null, o.by, o.now],
  );
  return toOrder(rows[0] as object);
}

export async function getOrder(db: Queryable, id: string, lock = false): Promise<PurchaseOrder | undefined> {
  const { rows } = await db.query(
    `SELECT ${ORDER_COLUMNS} FROM purchase_orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toOrder(rows[0]) : undefined;
}

export async function markReceived(
  tx: Queryable,
  id: string,
  receipt: { lotNumber: string; expiry: string; quantity: number; by: string; at: Date },
): Promise<PurchaseOrder> {
  const { rows } = await tx.query(
    `UPDATE purchase_orders SET status = 'received', received_lot = $2, received_expiry = $3,
        received_quantity = $4, received_by = $5, received_at = $6
      WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
    [id, receipt.lotNumber, receipt.expiry, receipt.quantity, receipt.by, receipt.at],
  );
  return toOrder(rows[0] as object);
}

/** Orders in id order (creation order), of one item and one status when given, keyset-paged. */
export async function listOrders(
  db: Queryable,
  filter: { itemId?: string | undefined; status?: string | undefined },
  page: { after?: string | undefined; limit: number },
): Promise<PurchaseOrder[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (filter.itemId !== undefined) where.push(`item_id = ${bind(filter.itemId)}`);
  if (filter.status !== undefined) where.push(`status = ${bind(filter.status)}`);
  if (page.after) where.push(`id > ${bind(page.after)}`);
  const { rows } = await db.query(
    `SELECT ${ORDER_COLUMNS} FROM purchase_orders WHERE ${where.join(' AND ')}
      ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toOrder(r as object));
}
