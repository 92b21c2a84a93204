import { Type, type Static } from '@sinclair/typebox';
import { DateOnly, Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Inventory service (DOMAIN.md "Inventory", issue #12), shared by the API and the
 * events: items and their lots, reservations (the Pharmacy saga's first step), the stock ledger
 * and purchase orders. Quantities are whole units of the item's `unit`.
 */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Positive = (description: string) => Type.Integer({ minimum: 1, maximum: 1_000_000_000, description });

export const Sku = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$',
  description: 'stock keeping unit: letters, digits and . _ / -, unique',
});

export const LotNumber = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$',
  description: "the manufacturer's lot (batch) number, unique within the item",
});

/** The last day a lot may be used, in the facility's time zone (`FACILITY_TIMEZONE`). */
export const LotExpiry = Type.String({
  format: 'date',
  description: "YYYY-MM-DD: the lot's last usable day in the facility's time zone",
});

/** A lot as received (POST /inventory's initial lots). */
export const LotInput = Type.Object(
  { lotNumber: LotNumber, expiry: LotExpiry, quantity: Positive('units received') },
  { additionalProperties: false },
);
export type LotInput = Static<typeof LotInput>;

export const Lot = Type.Object(
  {
    lotNumber: Type.String(),
    expiry: DateOnly,
    quantity: Type.Integer({ minimum: 0, description: 'units on hand in this lot' }),
    reserved: Type.Integer({ minimum: 0, description: 'units of it held by reservations' }),
    expired: Type.Boolean({ description: "its last usable day has passed in the facility's time zone" }),
  },
  { additionalProperties: false },
);
export type Lot = Static<typeof Lot>;

const itemWritable = {
  sku: Sku,
  name: Text(200),
  category: Text(100),
  unit: Text(32),
  reorderThreshold: Type.Integer({
    minimum: 0,
    maximum: 1_000_000_000,
    description: 'usable stock below this publishes inventory.stock-low.v1 (once per crossing)',
  }),
  reorderQuantity: Positive('units a reorder asks for unless it says otherwise'),
  supplier: Type.Optional(Text(200)),
};

/** Body of POST /inventory: the item and, optionally, the lots it starts with. */
export const InventoryItemCreate = Type.Object(
  { ...itemWritable, lots: Type.Optional(Type.Array(LotInput, { maxItems: 100 })) },
  { additionalProperties: false, $id: 'InventoryItemCreate' },
);
export type InventoryItemCreate = Static<typeof InventoryItemCreate>;

/** Body of PUT /inventory/{id}: the item's record. Stock changes only through lots' own operations. */
export const InventoryItemInput = Type.Object(itemWritable, {
  additionalProperties: false,
  $id: 'InventoryItemInput',
});
export type InventoryItemInput = Static<typeof InventoryItemInput>;

export const InventoryItem = Type.Object(
  {
    id: Uuid,
    ...itemWritable,
    quantityOnHand: Type.Integer({ minimum: 0, description: 'units in every lot, expired ones included' }),
    reserved: Type.Integer({ minimum: 0, description: 'units held by reservations' }),
    available: Type.Integer({
      minimum: 0,
      description: 'usable units: in unexpired lots and not reserved',
    }),
    lastRestockAt: Type.Optional(Timestamp),
    lots: Type.Array(Lot, { description: 'lots holding stock, earliest expiry first' }),
    version: Type.Integer({
      minimum: 1,
      description: "the item record's version (PUT); stock moves do not change it",
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'InventoryItem' },
);
export type InventoryItem = Static<typeof InventoryItem>;

/** One row of `GET /inventory?expiringBefore=`: a lot holding stock whose last usable day is before the date. */
export const ExpiringLot = Type.Object(
  {
    itemId: Uuid,
    sku: Type.String(),
    name: Type.String(),
    unit: Type.String(),
    lotNumber: Type.String(),
    expiry: DateOnly,
    quantity: Type.Integer({ minimum: 0 }),
    reserved: Type.Integer({ minimum: 0 }),
    expired: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ExpiringLot = Static<typeof ExpiringLot>;

// ---- reservations

export const ReservationState = Type.Union(
  [Type.Literal('held'), Type.Literal('confirmed'), Type.Literal('consumed'), Type.Literal('released')],
  {
    description:
      'held → confirmed → consumed (by medication.dispensed.v1); held or confirmed → released (by the caller, or the TTL while held)',
  },
);
export type ReservationState = Static<typeof ReservationState>;

export const ReservationInput = Type.Object(
  {
    itemId: Uuid,
    quantity: Positive('units to hold'),
    reference: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "the caller's id of what the stock is for (a fill's id): one reservation per reference",
    }),
    ttlSec: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 86_400,
        description: 'seconds the hold lasts unless confirmed (default INVENTORY_RESERVATION_TTL_SEC)',
      }),
    ),
  },
  { additionalProperties: false, $id: 'ReservationInput' },
);
export type ReservationInput = Static<typeof ReservationInput>;

export const ReservedLot = Type.Object(
  { lotNumber: Type.String(), expiry: DateOnly, quantity: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type ReservedLot = Static<typeof ReservedLot>;

export const Reservation = Type.Object(
  {
    id: Uuid,
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1 }),
    reference: Type.String(),
    state: ReservationState,
    lots: Type.Array(ReservedLot, { description: 'the lots held, earliest expiry first' }),
    expiresAt: Timestamp,
    createdAt: Timestamp,
    confirmedAt: Type.Optional(Timestamp),
    consumedAt: Type.Optional(Timestamp),
    dispenseId: Type.Optional(Uuid),
    releasedAt: Type.Optional(Timestamp),
    releaseReason: Type.Optional(
      Type.Union([Type.Literal('released'), Type.Literal('expired')], {
        description: 'released: by the caller (compensation); expired: its TTL passed while held',
      }),
    ),
  },
  { additionalProperties: false, $id: 'Reservation' },
);
export type Reservation = Static<typeof Reservation>;

// ---- the ledger

export const ADJUSTMENT_REASONS = ['expired', 'damaged', 'count-correction', 'returned', 'other'] as const;
export const AdjustmentReason = Type.Union(ADJUSTMENT_REASONS.map((r) => Type.Literal(r)));
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

export const AdjustmentInput = Type.Object(
  {
    lotNumber: LotNumber,
    quantity: Type.Integer({
      minimum: -1_000_000_000,
      maximum: 1_000_000_000,
      description: 'signed change of the lot, not 0',
    }),
    reason: AdjustmentReason,
    note: Type.Optional(Text(500)),
  },
  { additionalProperties: false, $id: 'AdjustmentInput' },
);
export type AdjustmentInput = Static<typeof AdjustmentInput>;

export const LedgerReason = Type.Union(
  [Type.Literal('receipt'), Type.Literal('dispense'), ...ADJUSTMENT_REASONS.map((r) => Type.Literal(r))],
  {
    description:
      'receipt (initial lots, received orders), dispense (a consumed reservation), or an adjustment reason (the expiry job writes off with `expired`)',
  },
);
export type LedgerReason = Static<typeof LedgerReason>;

/** One change of one lot's quantity: a lot's quantity is always the sum of its entries. */
export const LedgerEntry = Type.Object(
  {
    id: Uuid,
    itemId: Uuid,
    lotNumber: Type.String(),
    quantity: Type.Integer({ description: 'signed change of the lot' }),
    lotQuantityAfter: Type.Integer({ minimum: 0 }),
    reason: LedgerReason,
    note: Type.Optional(Type.String()),
    reservationId: Type.Optional(Uuid),
    dispenseId: Type.Optional(Uuid),
    orderId: Type.Optional(Uuid),
    actor: Type.String({ description: 'user id, or svc:<name> for events and jobs' }),
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'LedgerEntry' },
);
export type LedgerEntry = Static<typeof LedgerEntry>;

// ---- purchase orders

export const ReorderInput = Type.Object(
  {
    quantity: Type.Optional(Positive("units to order (default: the item's reorderQuantity)")),
    note: Type.Optional(Text(500)),
  },
  { additionalProperties: false, $id: 'ReorderInput' },
);
export type ReorderInput = Static<typeof ReorderInput>;

export const ReceiptInput = Type.Object(
  {
    lotNumber: LotNumber,
    expiry: LotExpiry,
    quantity: Type.Optional(Positive('units received (default: the quantity ordered)')),
  },
  { additionalProperties: false, $id: 'ReceiptInput' },
);
export type ReceiptInput = Static<typeof ReceiptInput>;

export const OrderStatus = Type.Union([Type.Literal('ordered'), Type.Literal('received')]);
export type OrderStatus = Static<typeof OrderStatus>;

export const PurchaseOrder = Type.Object(
  {
    id: Uuid,
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, description: 'units ordered' }),
    supplier: Type.Optional(Type.String()),
    note: Type.Optional(Type.String()),
    status: OrderStatus,
    orderedBy: Type.String(),
    orderedAt: Timestamp,
    receipt: Type.Optional(
      Type.Object(
        {
          lotNumber: Type.String(),
          expiry: DateOnly,
          quantity: Type.Integer({ minimum: 1 }),
          receivedBy: Type.String(),
          receivedAt: Timestamp,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'PurchaseOrder' },
);
export type PurchaseOrder = Static<typeof PurchaseOrder>;

// ---- events

export const InventoryStockLowV1 = Type.Object(
  {
    item: InventoryItem,
    available: Type.Integer({ minimum: 0, description: 'usable units when it crossed' }),
    reorderThreshold: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false, $id: 'inventory.stock-low.v1' },
);

export const InventoryStockReplenishedV1 = Type.Object(
  { item: InventoryItem, order: PurchaseOrder },
  { additionalProperties: false, $id: 'inventory.stock-replenished.v1' },
);

export const InventoryStockAdjustedV1 = Type.Object(
  { item: InventoryItem, adjustment: LedgerEntry },
  { additionalProperties: false, $id: 'inventory.stock-adjusted.v1' },
);
