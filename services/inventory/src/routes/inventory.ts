import { Type } from '@sinclair/typebox';
import {
  AdjustmentInput,
  DateOnly,
  ExpiringLot,
  InventoryItem,
  InventoryItemCreate,
  InventoryItemInput,
  LedgerEntry,
  OrderStatus,
  Page,
  PageQuery,
  Problem,
  PurchaseOrder,
  ReceiptInput,
  ReorderInput,
  Reservation,
  ReservationInput,
  Uuid,
} from '@hms/contracts';
import {
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchRequired,
  withETag,
  type App,
} from '@hms/platform';
import * as items from '../items.js';
import { adjustStock, listLedger } from '../ledger.js';
import * as orders from '../orders.js';
import * as reservations from '../reservations.js';

const errors = ProblemResponses;
const INVENTORY = '/api/v1/inventory';
/** find-my-way prefers a static segment to a parameter: these never reach `/inventory/:id`. */
const RESERVATIONS = `${INVENTORY}/reservations`;
const ORDERS = `${INVENTORY}/orders`;

/**
 * HTTP edge of the Inventory service: schema + one call into the use cases per route (STYLE.md
 * §2). No route holds patient data: items, lots, reservations and orders name none.
 */
export function inventoryRoutes(app: App, ctx: items.InventoryContext): void {
  const tags = ['inventory'];

  app.get(
    INVENTORY,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'listInventoryItems',
        summary:
          'List items in creation order (of one category when given); with expiringBefore, the lots holding stock whose last usable day is before that date, earliest first',
        description:
          'Items in creation order, optionally of one category. With `expiringBefore`, answers instead the lots holding stock whose last usable day is before that date, earliest first.',
        querystring: Type.Object(
          {
            category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            expiringBefore: Type.Optional(DateOnly),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Union([Page(InventoryItem), Page(ExpiringLot)]), ...errors },
      },
    },
    (request) => items.listItems(ctx, callerOf(request), request.query),
  );

  app.post(
    INVENTORY,
    {
      config: { permission: 'inventory:write', idempotent: true },
      schema: {
        tags,
        operationId: 'createInventoryItem',
        summary:
          'Add an item, with the lots it starts with (each a receipt in the ledger; Idempotency-Key accepted)',
        description:
          'Adds an item with the lots it starts with, each recorded as a receipt in the ledger. 409 when an item with that SKU exists. Accepts `Idempotency-Key`.',
        body: InventoryItemCreate,
        response: { 201: InventoryItem, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const item = await items.createItem(ctx, callerOf(request), request.body);
      return withETag(reply.code(201).header('location', `${INVENTORY}/${item.id}`), item.version).send(item);
    },
  );

  app.get(
    `${INVENTORY}/:id`,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'getInventoryItem',
        summary: 'Get an item with its lots and stock',
        description:
          'One item with its lots, stock on hand and stock reserved, and the `ETag` an update needs.',
        params: IdParams,
        response: { 200: InventoryItem, ...errors },
      },
    },
    async (request, reply) => {
      const item = await items.getItem(ctx, callerOf(request), request.params.id);
      return withETag(reply, item.version).send(item);
    },
  );

  app.put(
    `${INVENTORY}/:id`,
    {
      config: { permission: 'inventory:write' },
      schema: {
        tags,
        operationId: 'replaceInventoryItem',
        summary: "Replace an item's record (If-Match required); its stock changes only through lots",
        description:
          "Replaces an item's record (name, category, reorder levels…); its stock changes only through lots, adjustments and dispenses. `If-Match` is required (428 without it, 412 when it changed).",
        params: IdParams,
        headers: IfMatchHeader,
        body: InventoryItemInput,
        response: { 200: InventoryItem, ...errors, 409: Problem, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const item = await items.replaceItem(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply, item.version).send(item);
    },
  );

  // ---- the ledger

  app.post(
    `${INVENTORY}/:id/adjustments`,
    {
      config: { permission: 'inventory:write', idempotent: true },
      schema: {
        tags,
        operationId: 'adjustInventoryLot',
        summary: 'Adjust one lot by a signed quantity with a reason (a ledger entry, published)',
        description:
          'Adjusts one lot by a signed quantity with a reason, recorded in the ledger and published. 409 when it would take the lot below zero or below what reservations hold of it. Accepts `Idempotency-Key`.',
        params: IdParams,
        body: AdjustmentInput,
        response: { 201: LedgerEntry, ...errors, 409: Problem },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await adjustStock(ctx, callerOf(request), request.params.id, request.body)),
  );

  app.get(
    `${INVENTORY}/:id/adjustments`,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'listInventoryLedger',
        summary:
          "The item's ledger: every change of a lot (receipts, adjustments, dispenses, expiries), oldest first",
        description:
          "The item's ledger, oldest first: every change of one of its lots (receipts, adjustments, dispenses, expiries).",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(LedgerEntry), ...errors },
      },
    },
    (request) => listLedger(ctx, callerOf(request), request.params.id, request.query),
  );

  // ---- reservations (the Pharmacy saga's stock step)

  app.post(
    RESERVATIONS,
    {
      config: { permission: 'inventory:write', idempotent: true },
      schema: {
        tags,
        operationId: 'reserveInventory',
        summary:
          'Hold stock for a reference (earliest-expiring usable lots first, split when needed); the same reference answers the same reservation (200)',
        description:
          'Holds stock for a reference, from the earliest-expiring usable lots first (split across lots when needed); 201 when created, 200 with the same reservation when the reference was used already. 409 when usable stock is short or the reference names another reservation. A held reservation times out unless confirmed.',
        body: ReservationInput,
        response: { 200: Reservation, 201: Reservation, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const { reservation, created } = await reservations.reserve(ctx, callerOf(request), request.body);
      if (!created) return reservation;
      return reply.code(201).header('location', `${RESERVATIONS}/${reservation.id}`).send(reservation);
    },
  );

  app.get(
    `${RESERVATIONS}/:id`,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'getInventoryReservation',
        summary: 'Get a reservation',
        description:
          'One reservation with its lots and status: held, confirmed, consumed (by a dispense) or released (by its caller, or by the timeout while held).',
        params: IdParams,
        response: { 200: Reservation, ...errors },
      },
    },
    (request) => reservations.getReservation(ctx, callerOf(request), request.params.id),
  );

  app.post(
    `${RESERVATIONS}/:id/confirm`,
    {
      config: { permission: 'inventory:write', idempotent: true },
      schema: {
        tags,
        operationId: 'confirmInventoryReservation',
        summary: 'Confirm a held reservation before dispensing: it no longer times out',
        description:
          'Confirms a held reservation before dispensing, so it no longer times out. 409 when it was released or consumed, or outlived its timeout. Accepts `Idempotency-Key`.',
        params: IdParams,
        response: { 200: Reservation, ...errors, 409: Problem },
      },
    },
    (request) => reservations.confirmReservation(ctx, callerOf(request), request.params.id),
  );

  app.post(
    `${RESERVATIONS}/:id/release`,
    {
      config: { permission: 'inventory:write', idempotent: true },
      schema: {
        tags,
        operationId: 'releaseInventoryReservation',
        summary: "Release a reservation's stock (the saga's compensation); a consumed one is 409",
        description:
          "Releases a reservation's stock back to its lots (the dispensing saga's compensation). 409 when it was consumed by a dispense. Accepts `Idempotency-Key`.",
        params: IdParams,
        response: { 200: Reservation, ...errors, 409: Problem },
      },
    },
    (request) => reservations.releaseReservation(ctx, callerOf(request), request.params.id),
  );

  // ---- purchase orders

  app.post(
    `${INVENTORY}/:id/reorder`,
    {
      config: { permission: 'inventory:approve', idempotent: true },
      schema: {
        tags,
        operationId: 'reorderInventoryItem',
        summary:
          'Place a purchase order for the item (quantity default: its reorderQuantity); 202: delivered later',
        description:
          'Places a purchase order for the item (quantity by default its reorder quantity) and answers 202: the stock arrives when the order is received. Needs `inventory:approve`; accepts `Idempotency-Key`.',
        params: IdParams,
        body: ReorderInput,
        response: { 202: PurchaseOrder, ...errors },
      },
    },
    async (request, reply) => {
      const order = await orders.reorder(ctx, callerOf(request), request.params.id, request.body);
      return reply.code(202).header('location', `${ORDERS}/${order.id}`).send(order);
    },
  );

  app.get(
    ORDERS,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'listPurchaseOrders',
        summary: 'List purchase orders in creation order (of one item, of one status when given)',
        description: 'Purchase orders in creation order, optionally of one item and one status.',
        querystring: Type.Object(
          { itemId: Type.Optional(Uuid), status: Type.Optional(OrderStatus), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(PurchaseOrder), ...errors },
      },
    },
    (request) => orders.listOrders(ctx, callerOf(request), request.query),
  );

  app.get(
    `${ORDERS}/:id`,
    {
      config: { permission: 'inventory:read' },
      schema: {
        tags,
        operationId: 'getPurchaseOrder',
        summary: 'Get a purchase order',
        description: 'One purchase order with its status.',
        params: IdParams,
        response: { 200: PurchaseOrder, ...errors },
      },
    },
    (request) => orders.getOrder(ctx, callerOf(request), request.params.id),
  );

  app.post(
    `${ORDERS}/:id/receive`,
    {
      config: { permission: 'inventory:approve', idempotent: true },
      schema: {
        tags,
        operationId: 'receivePurchaseOrder',
        summary: "Receive a purchase order: its lot joins the item's stock (once)",
        description:
          "Receives a purchase order: its lot joins the item's stock. 409 when it was received already or the item has a lot of that number with another expiry. Needs `inventory:approve`; accepts `Idempotency-Key`.",
        params: IdParams,
        body: ReceiptInput,
        response: {
          200: Type.Object({ order: PurchaseOrder, item: InventoryItem }, { additionalProperties: false }),
          ...errors,
          409: Problem,
        },
      },
    },
    (request) => orders.receiveOrder(ctx, callerOf(request), request.params.id, request.body),
  );
}
