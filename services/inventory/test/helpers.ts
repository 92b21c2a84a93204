import type { InventoryItem, InventoryItemCreate, Reservation } from '@hms/contracts';
import { buildEnvelope, uuidv7, type Clock } from '@hms/platform';
import { outboxRows, type OutboxRow, type RunningService } from '@hms/testkit';
import { postCreated, useServiceWith, type StartServiceOptions } from '@hms/testkit/vitest';
import { expect } from 'vitest';
import { inventoryService } from '../src/service.js';

export const INVENTORY = '/api/v1/inventory';
export const RESERVATIONS = '/api/v1/inventory/reservations';
export const ORDERS = '/api/v1/inventory/orders';

let n = 0;
const unique = () => `${Date.now().toString(36)}${(n += 1)}`;

/** A valid item with a unique SKU and category (so a list test sees only its own), no lots unless given. */
export function newItem(overrides: Partial<InventoryItemCreate> = {}): InventoryItemCreate {
  return {
    sku: `AMOX-500-${unique()}`,
    name: 'Amoxicillin 500 mg capsules',
    category: `antibiotics-${unique()}`,
    unit: 'capsule',
    reorderThreshold: 10,
    reorderQuantity: 100,
    supplier: 'Acme Pharma',
    ...overrides,
  };
}

export interface Tokens {
  /** pharmacist: inventory:read|write|approve */
  pharmacist: string;
  /** nurse: inventory:read only */
  nurse: string;
  /** the Pharmacy service's identity (SERVICE_PERMISSIONS: inventory:read|write) */
  pharmacy: string;
  /** admin: events:manage (dead letters) and everything else */
  admin: string;
}

export async function tokensFor(svc: RunningService): Promise<Tokens> {
  return {
    pharmacist: await svc.keys.mint({ roles: ['pharmacist'] }),
    nurse: await svc.keys.mint({ roles: ['nurse'] }),
    pharmacy: await svc.keys.mint({ sub: 'svc:pharmacy', scope: ['inventory:read', 'inventory:write'] }),
    admin: await svc.keys.mint({ roles: ['admin'] }),
  };
}

/** Starts the Inventory service for this test file and hands it and a token per role to `ready`. */
export function useInventoryService(
  ready: (svc: RunningService, tokens: Tokens) => void | Promise<void>,
  opts: StartServiceOptions = {},
): void {
  useServiceWith(inventoryService, tokensFor, ready, { startTimeoutMs: 60_000, ...opts });
}

/** A clock a test moves by hand: `set(iso)`; `now()` answers the instant last set. */
export function settableClock(iso: string): Clock & { set(iso: string): void } {
  let at = Date.parse(iso);
  return {
    now: () => new Date(at),
    set(next: string) {
      at = Date.parse(next);
    },
  };
}

export const createItem = (svc: RunningService, token: string, input: InventoryItemCreate = newItem()) =>
  postCreated<InventoryItem>(svc, INVENTORY, token, input);

export async function fetchItem(svc: RunningService, token: string, id: string): Promise<InventoryItem> {
  const res = await svc.request<InventoryItem>('GET', `${INVENTORY}/${id}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export const reserve = (
  svc: RunningService,
  token: string,
  body: { itemId: string; quantity: number; reference?: string; ttlSec?: number },
) =>
  svc.request<Reservation & { code?: string; available?: number; requested?: number }>('POST', RESERVATIONS, {
    token,
    body: { reference: `fill-${uuidv7()}`, ...body },
  });

/** Reserves and fails the test unless 201. */
export async function reserved(
  svc: RunningService,
  token: string,
  body: { itemId: string; quantity: number; reference?: string; ttlSec?: number },
): Promise<Reservation> {
  const res = await reserve(svc, token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** What the database holds: a refused request must change none of it. */
export async function snapshot(svc: RunningService): Promise<Record<string, unknown>> {
  const { rows } = await svc.db.query(
    `SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM ledger)::int AS ledger,
            (SELECT count(*) FROM reservations)::int AS reservations,
            (SELECT count(*) FROM purchase_orders)::int AS orders, (SELECT count(*) FROM outbox)::int AS outbox,
            (SELECT coalesce(json_agg(json_build_object('item', item_id, 'lot', lot_number, 'q', quantity,
                'r', reserved) ORDER BY item_id, lot_number), '[]') FROM lots) AS lots,
            (SELECT coalesce(json_agg(json_build_object('id', id, 'v', version, 'armed', low_armed,
                'sku', sku) ORDER BY id), '[]') FROM items) AS records`,
  );
  return rows[0] as Record<string, unknown>;
}

export const outboxOf = (svc: RunningService, subject: string): Promise<OutboxRow[]> =>
  outboxRows(svc.db, { subject });

/** The types of the events in the outbox about an item, in the order written. */
export async function eventTypesOf(svc: RunningService, itemId: string): Promise<string[]> {
  return (await outboxOf(svc, itemId)).map((r) => r.type);
}

// ---- medication.dispensed.v1, as the Pharmacy's outbox would write it

export interface DispenseFacts {
  reservationId: string;
  itemId: string;
  quantity: number;
  lots: { lotNumber: string; quantity: number }[];
  dispenseId?: string;
}

/** The envelope of a dispense event, built and checked against its schema. */
export function dispensedEnvelope(facts: DispenseFacts, dispensedAt = '2027-03-10T10:00:00.000Z') {
  return buildEnvelope('pharmacy', {
    type: 'medication.dispensed.v1',
    subject: facts.dispenseId ?? facts.reservationId,
    data: {
      dispenseId: facts.dispenseId ?? uuidv7(),
      reservationId: facts.reservationId,
      itemId: facts.itemId,
      quantity: facts.quantity,
      lots: facts.lots,
      dispensedAt,
      medicationId: '0190f3a0-0000-7000-8000-00000000d001',
    },
  });
}

/**
 * Waits until the service's inbox has taken each envelope (applied, or skipped as a duplicate);
 * fails after 10 s (e.g. an event that was dead-lettered).
 */
export async function consumed(svc: RunningService, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(DISTINCT event_id)::int AS n FROM inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])',
      ['inventory', ids],
    );
    const got = rows[0]?.n ?? 0;
    if (got === new Set(ids).size) return;
    if (Date.now() > deadline) throw new Error(`${new Set(ids).size - got} events not consumed in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `check` answers true (polling the database or the API); fails after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Per lot of an item: the stored quantity, reserved, and what the ledger's entries add up to. */
export async function lotBooks(
  svc: RunningService,
  itemId: string,
): Promise<{ lotNumber: string; quantity: number; reserved: number; ledger: number }[]> {
  const { rows } = await svc.db.query<{
    lotNumber: string;
    quantity: number;
    reserved: number;
    ledger: number;
  }>(
    `SELECT l.lot_number AS "lotNumber", l.quantity, l.reserved,
            (SELECT coalesce(sum(e.quantity), 0)::int FROM ledger e
              WHERE e.item_id = l.item_id AND e.lot_number = l.lot_number) AS ledger
       FROM lots l WHERE l.item_id = $1 ORDER BY l.lot_number`,
    [itemId],
  );
  return rows;
}
