import type { ExpiringLot, InventoryItem, InventoryItemCreate, InventoryItemInput } from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
  checkVersion,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Clock,
  type Db,
  type Tx,
} from '@hms/platform';
import type { InventoryConfig } from './config.js';
import {
  isExpired,
  itemView,
  localDate,
  lowStockStep,
  receivedLotProblems,
  usableStock,
  type FieldProblem,
} from './domain/stock.js';
import { InventoryErrors } from './errors.js';
import * as store from './store.js';

/**
 * The Inventory service's item use cases, and what every stock change shares: the item locked
 * first, the stock-low trigger settled in the same transaction. Each reads like the story:
 * authorize, validate, load, decide, save, emit (DESIGN.md §5: the change and its event commit
 * together).
 */
export const SOURCE = 'inventory';
/** Who the ledger names for what the service does on its own (jobs). */
export const SYSTEM_ACTOR = 'svc:inventory';

/** What the use cases run with (ServiceDeps' part they need). */
export interface InventoryContext {
  db: Db;
  clock: Clock;
  facility: { timezone: string };
  config: InventoryConfig;
}

/** The facility's date now: what "expired" is measured against. */
export const today = (ctx: InventoryContext): string => localDate(ctx.clock.now(), ctx.facility.timezone);

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** The item as the API answers it, read in `db` (a transaction sees its own writes). */
export async function viewOf(ctx: InventoryContext, db: Db | Tx, row: store.ItemRow): Promise<InventoryItem> {
  return itemView(row, await store.lotsOf(db, row.id), today(ctx));
}

/** Locks an item for a change of its stock (the first lock of the fixed order); 404 when unknown. */
export async function lockItem(tx: Tx, id: string): Promise<store.ItemRow> {
  const item = await store.getItem(tx, id, true);
  if (!item) throw InventoryErrors.item_not_found();
  return item;
}

/**
 * After any change of an item's stock or threshold, in its transaction: usable stock against the
 * threshold, and `inventory.stock-low.v1` once per crossing below it (re-armed once back at or
 * above it). The item's row is locked, so two changes never both see the crossing.
 */
export async function settleStock(ctx: InventoryContext, tx: Tx, item: store.ItemRow): Promise<void> {
  const lots = await store.lotsOf(tx, item.id);
  const day = today(ctx);
  const usable = usableStock(lots, day);
  const step = lowStockStep(item.lowArmed, usable, item.reorderThreshold);
  if (step.armed !== item.lowArmed) await store.setLowArmed(tx, item.id, step.armed);
  if (step.publish)
    await appendToOutbox(tx, SOURCE, {
      type: 'inventory.stock-low.v1',
      subject: item.id,
      data: {
        item: itemView(item, lots, day),
        available: usable,
        reorderThreshold: item.reorderThreshold,
      },
    });
}

function normalized<T extends InventoryItemInput>(input: T): T {
  const supplier = input.supplier?.trim();
  const out = {
    ...input,
    name: input.name.trim(),
    category: input.category.trim(),
    unit: input.unit.trim(),
  };
  delete out.supplier;
  return supplier ? { ...out, supplier } : out;
}

function recordProblems(input: InventoryItemInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of ['name', 'category', 'unit'] as const)
    if (!input[field]) problems.push({ path: `/body/${field}`, message: 'must not be blank' });
  return problems;
}

async function skuTaken(ctx: InventoryContext, sku: string): Promise<never> {
  const existingId = await store.itemIdBySku(ctx.db, sku);
  throw InventoryErrors.sku_exists(`SKU ${sku} belongs to item ${existingId ?? 'another item'}`, {
    extensions: { existingId },
  });
}

/** POST /inventory: the item and the lots it starts with, each a receipt in the ledger. */
export async function createItem(
  ctx: InventoryContext,
  caller: Caller,
  raw: InventoryItemCreate,
): Promise<InventoryItem> {
  authorize(caller, 'inventory:write');
  const { lots = [], ...record } = normalized(raw);
  const problems = [
    ...recordProblems(record),
    ...receivedLotProblems(lots, today(ctx), (i) => `/body/lots/${i}`),
  ];
  if (problems.length > 0) invalid(problems);
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      const item = await store.insertItem(tx, uuidv7(), record, now);
      for (const lot of lots) {
        await store.ensureLot(tx, item.id, lot, now);
        await store.changeLot(tx, item.id, lot.lotNumber, lot.quantity, {
          reason: 'receipt',
          actor: caller.id,
          at: now,
        });
      }
      if (lots.length > 0) await store.setLastRestock(tx, item.id, now);
      await settleStock(ctx, tx, item);
      const saved = (await store.getItem(tx, item.id)) as store.ItemRow;
      return viewOf(ctx, tx, saved);
    });
  } catch (err) {
    if (isUniqueViolation(err)) return skuTaken(ctx, record.sku);
    throw err;
  }
}

export async function getItem(ctx: InventoryContext, caller: Caller, id: string): Promise<InventoryItem> {
  authorize(caller, 'inventory:read');
  const item = await store.getItem(ctx.db, id);
  if (!item) throw InventoryErrors.item_not_found();
  return viewOf(ctx, ctx.db, item);
}

const RECORD_FIELDS = [
  'sku',
  'name',
  'category',
  'unit',
  'reorderThreshold',
  'reorderQuantity',
  'supplier',
] as const;

/**
 * PUT /inventory/{id}: replaces the item's record (If-Match required; omitted `supplier` is
 * cleared). Stock is not part of it: lots change through receipts, adjustments and dispenses. A
 * new threshold is settled at once (it can cross).
 */
export async function replaceItem(
  ctx: InventoryContext,
  caller: Caller,
  id: string,
  raw: InventoryItemInput,
  expected: number | '*',
): Promise<InventoryItem> {
  authorize(caller, 'inventory:write');
  const input = normalized(raw);
  const problems = recordProblems(input);
  if (problems.length > 0) invalid(problems);
  try {
    return await ctx.db.transaction(async (tx) => {
      const current = await lockItem(tx, id);
      checkVersion(expected, current.version);
      if (RECORD_FIELDS.every((f) => current[f] === input[f])) return viewOf(ctx, tx, current);
      const saved = await store.updateItem(tx, id, input, ctx.clock.now());
      await settleStock(ctx, tx, saved);
      return viewOf(ctx, tx, saved);
    });
  } catch (err) {
    if (isUniqueViolation(err)) return skuTaken(ctx, input.sku);
    throw err;
  }
}

export interface ItemQuery {
  category?: string | undefined;
  expiringBefore?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** GET /inventory: items in creation order; with `expiringBefore`, the lots expiring before that date instead. */
export async function listItems(ctx: InventoryContext, caller: Caller, q: ItemQuery) {
  authorize(caller, 'inventory:read');
  if (q.expiringBefore !== undefined) return listExpiring(ctx, q.expiringBefore, q);
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listItems(ctx.db, { category: q.category }, { after, limit });
  const page = toPage(rows, limit, (i) => [i.id]);
  const lots = await store.stockedLotsOf(
    ctx.db,
    page.items.map((i) => i.id),
  );
  const day = today(ctx);
  return { ...page, items: page.items.map((i) => itemView(i, lots.get(i.id) ?? [], day)) };
}

/**
 * Lots holding stock whose last usable day is before `before` (expired ones included, until the
 * expiry job writes them off), of items of one category when given, earliest expiry first,
 * keyset-paged on [expiry, item, lot].
 */
async function listExpiring(
  ctx: InventoryContext,
  before: string,
  q: ItemQuery,
): Promise<{ items: ExpiringLot[]; nextCursor: string | null }> {
  const limit = q.limit ?? 20;
  const isKey = ([expiry, id, lot]: (string | number)[]) =>
    typeof expiry === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(expiry) &&
    typeof id === 'string' &&
    isUuid(id) &&
    typeof lot === 'string';
  const after = decodeCursor(q.cursor, 3, isKey) as [string, string, string] | undefined;
  const rows = await store.listExpiringLots(ctx.db, { before, category: q.category }, { after, limit });
  const page = toPage(rows, limit, (l) => [l.expiry, l.itemId, l.lotNumber]);
  const day = today(ctx);
  return { ...page, items: page.items.map((l) => ({ ...l, expired: isExpired(l.expiry, day) })) };
}
