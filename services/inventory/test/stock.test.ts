import type { InventoryItem, LedgerEntry, PurchaseOrder, Reservation } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  INVENTORY,
  ORDERS,
  RESERVATIONS,
  createItem,
  fetchItem,
  lotBooks,
  newItem,
  outboxOf,
  reserved,
  settableClock,
  snapshot,
  until,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * The ledger and what moves it besides dispenses: adjustments by hand, the expiry job's
 * write-offs, receipts of purchase orders; and the stock-low trigger, once per crossing of usable
 * stock below the threshold, re-armed above it. The facility is in Berlin (UTC+1 in March 2027);
 * the clock starts Wednesday 2027-03-10, 12:00 UTC and is moved by hand.
 */
const clock = settableClock('2027-03-10T12:00:00.000Z');
const PHARMACIST = '0190f3a0-0000-7000-8000-00000000a11c';

let svc: RunningService;
let t: Tokens;
let pharmacist: string;

useInventoryService(
  async (s, tokens) => {
    svc = s;
    t = tokens;
    pharmacist = await svc.keys.mint({ sub: PHARMACIST, roles: ['pharmacist'] });
  },
  {
    clock,
    env: {
      FACILITY_TIMEZONE: 'Europe/Berlin',
      // the jobs run once at start and then only when a test triggers them
      INVENTORY_EXPIRY_JOB_MS: '3600000',
      INVENTORY_RESERVATION_JOB_MS: '3600000',
    },
  },
);

const adjust = (id: string, body: Record<string, unknown>) =>
  svc.request<LedgerEntry & { code?: string }>('POST', `${INVENTORY}/${id}/adjustments`, {
    token: pharmacist,
    body,
  });

const eventsOf = async (itemId: string, type: string) =>
  (await outboxOf(svc, itemId)).filter((r) => r.type === type).map((r) => r.envelope.data);

async function runExpiryJob(itemId: string, expectedEntries: number): Promise<void> {
  svc.runtime.scheduler.trigger('inventory-expiry');
  await until('the expiry job wrote off', async () => {
    const { rows } = await svc.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ledger WHERE item_id = $1 AND reason = 'expired'`,
      [itemId],
    );
    return rows[0]?.n === expectedEntries;
  });
}

describe('POST /api/v1/inventory/:id/adjustments', () => {
  it('changes one lot by a signed quantity, as a ledger entry, published', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 0, lots: [{ lotNumber: 'L1', expiry: '2027-12-31', quantity: 20 }] }),
    );
    clock.set('2027-03-10T12:05:00.000Z');
    const res = await adjust(item.id, {
      lotNumber: 'L1',
      quantity: -3,
      reason: 'damaged',
      note: ' dropped a box ',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: res.body.id,
      itemId: item.id,
      lotNumber: 'L1',
      quantity: -3,
      lotQuantityAfter: 17,
      reason: 'damaged',
      note: 'dropped a box',
      actor: PHARMACIST,
      at: '2027-03-10T12:05:00.000Z',
    });
    const events = await eventsOf(item.id, 'inventory.stock-adjusted.v1');
    expect(events).toHaveLength(1);
    expect(events[0]?.adjustment).toEqual(res.body);
    expect((events[0]?.item as InventoryItem).quantityOnHand).toBe(17);

    const up = await adjust(item.id, { lotNumber: 'L1', quantity: 5, reason: 'count-correction' });
    expect(up.body).toMatchObject({ quantity: 5, lotQuantityAfter: 22, reason: 'count-correction' });
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({ quantityOnHand: 22, available: 22 });

    const { items, pages } = await readAllPages<LedgerEntry>(
      svc,
      `${INVENTORY}/${item.id}/adjustments`,
      t.nurse,
      {
        limit: 2,
      },
    );
    expect(pages).toBe(2);
    expect(items.map((e) => [e.reason, e.quantity, e.lotQuantityAfter])).toEqual([
      ['receipt', 20, 20],
      ['damaged', -3, 17],
      ['count-correction', 5, 22],
    ]);
    clock.set('2027-03-10T12:00:00.000Z');
  });

  it('refuses bad adjustments with 400 or 409 naming the problem, and changes nothing', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 0, lots: [{ lotNumber: 'L1', expiry: '2027-12-31', quantity: 10 }] }),
    );
    await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 4 });
    const before = await snapshot(svc);

    const unknownLot = await adjust(item.id, { lotNumber: 'NOPE', quantity: -1, reason: 'damaged' });
    expect(expectValidationErrors(unknownLot)).toEqual([
      { path: '/body/lotNumber', message: 'the item has no lot with this number' },
    ]);
    expect(
      expectValidationErrors(await adjust(item.id, { lotNumber: 'L1', quantity: 0, reason: 'other' })),
    ).toEqual([{ path: '/body/quantity', message: 'must not be 0' }]);
    expect(
      expectValidationErrors(await adjust(item.id, { lotNumber: 'L1', quantity: 2, reason: 'damaged' })),
    ).toEqual([
      { path: '/body/quantity', message: 'must be negative for reason damaged (it takes stock out)' },
    ]);
    expect(
      expectValidationErrors(await adjust(item.id, { lotNumber: 'L1', quantity: -2, reason: 'returned' })),
    ).toEqual([
      { path: '/body/quantity', message: 'must be positive for reason returned (it brings stock back)' },
    ]);
    expectProblem(await adjust(item.id, { lotNumber: 'L1', quantity: -1, reason: 'lost' }), 400);
    expectProblem(await adjust(item.id, { lotNumber: 'L1', quantity: 1.5, reason: 'other' }), 400);

    // 10 on hand, 4 reserved: taking 7 would leave fewer than the reservation holds; 11, below zero
    for (const quantity of [-7, -11]) {
      const res = await adjust(item.id, { lotNumber: 'L1', quantity, reason: 'count-correction' });
      expect(expectProblem(res, 409)).toMatchObject({
        code: 'insufficient_lot_stock',
        lotNumber: 'L1',
        quantity: 10,
        reserved: 4,
      });
    }
    const unknownItem = await svc.request(
      'POST',
      `${INVENTORY}/0190f3a0-0000-7000-8000-0000000000ff/adjustments`,
      {
        token: pharmacist,
        body: { lotNumber: 'L1', quantity: -1, reason: 'damaged' },
      },
    );
    expect(expectProblem(unknownItem, 404).code).toBe('item_not_found');
    expect(await snapshot(svc)).toEqual(before);

    // exactly the unreserved units may go
    const ok = await adjust(item.id, { lotNumber: 'L1', quantity: -6, reason: 'count-correction' });
    expect(ok.body).toMatchObject({ lotQuantityAfter: 4 });
    expect(await lotBooks(svc, item.id)).toEqual([{ lotNumber: 'L1', quantity: 4, reserved: 4, ledger: 4 }]);
  });
});

describe('the expiry job', () => {
  it("writes off a lot's unreserved units the day after its last usable day, with a ledger entry", async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({
        reorderThreshold: 5,
        lots: [
          { lotNumber: 'EXP', expiry: '2027-03-10', quantity: 8 },
          { lotNumber: 'GOOD', expiry: '2027-12-31', quantity: 3 },
        ],
      }),
    );
    // a 60 s hold of 6 ends on the 10th: EXP (earliest) is held
    const r = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 6, ttlSec: 60 });
    expect(r.lots).toEqual([{ lotNumber: 'EXP', expiry: '2027-03-10', quantity: 6 }]);
    const confirmed = await svc.request('POST', `${RESERVATIONS}/${r.id}/confirm`, { token: t.pharmacy });
    expect(confirmed.status).toBe(200);
    expect(await eventsOf(item.id, 'inventory.stock-low.v1')).toEqual([]);

    // 23:59 in Berlin: still the last usable day, nothing to write off
    clock.set('2027-03-10T22:59:00.000Z');
    svc.runtime.scheduler.trigger('inventory-expiry');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'EXP', quantity: 8, reserved: 6, ledger: 8 },
      { lotNumber: 'GOOD', quantity: 3, reserved: 0, ledger: 3 },
    ]);

    // 00:00 on the 11th in Berlin: EXP has expired; its 2 unreserved units go, the 6 held stay
    clock.set('2027-03-10T23:00:00.000Z');
    expect((await fetchItem(svc, t.nurse, item.id)).available).toBe(3);
    await runExpiryJob(item.id, 1);
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'EXP', quantity: 6, reserved: 6, ledger: 6 },
      { lotNumber: 'GOOD', quantity: 3, reserved: 0, ledger: 3 },
    ]);
    const adjusted = await eventsOf(item.id, 'inventory.stock-adjusted.v1');
    expect(adjusted.map((d) => d.adjustment)).toEqual([
      {
        id: (adjusted[0]?.adjustment as LedgerEntry).id,
        itemId: item.id,
        lotNumber: 'EXP',
        quantity: -2,
        lotQuantityAfter: 6,
        reason: 'expired',
        note: 'last usable day 2027-03-10 passed',
        actor: 'svc:inventory',
        at: '2027-03-10T23:00:00.000Z',
      },
    ]);
    // usable stock went from 11 − 6 = 5 to 3 (< 5): the expiry crossed the threshold
    const low = await eventsOf(item.id, 'inventory.stock-low.v1');
    expect(low.map((d) => [d.available, d.reorderThreshold])).toEqual([[3, 5]]);

    // released, the 6 held units of the expired lot are written off by the next run
    const released = await svc.request<Reservation>('POST', `${RESERVATIONS}/${r.id}/release`, {
      token: t.pharmacy,
    });
    expect(released.status).toBe(200);
    await runExpiryJob(item.id, 2);
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'EXP', quantity: 0, reserved: 0, ledger: 0 },
      { lotNumber: 'GOOD', quantity: 3, reserved: 0, ledger: 3 },
    ]);
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({
      quantityOnHand: 3,
      reserved: 0,
      available: 3,
      lots: [{ lotNumber: 'GOOD', expiry: '2027-12-31', quantity: 3, reserved: 0, expired: false }],
    });
    // still below the threshold: no second stock-low
    expect(await eventsOf(item.id, 'inventory.stock-low.v1')).toHaveLength(1);
    clock.set('2027-03-10T12:00:00.000Z');
  });
});

describe('a hold past its TTL', () => {
  it('is not confirmed (409) even before the TTL job ran, and the job then releases it as expired', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 0, lots: [{ lotNumber: 'T1', expiry: '2027-12-31', quantity: 10 }] }),
    );
    const r = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 4, ttlSec: 5 });
    expect(r.expiresAt).toBe('2027-03-10T12:00:05.000Z');
    clock.set('2027-03-10T12:00:05.000Z');
    const refused = await svc.request('POST', `${RESERVATIONS}/${r.id}/confirm`, { token: t.pharmacy });
    expect(expectProblem(refused, 409)).toMatchObject({
      code: 'reservation_expired',
      reservationId: r.id,
      expiresAt: '2027-03-10T12:00:05.000Z',
    });
    const held = await svc.request<Reservation>('GET', `${RESERVATIONS}/${r.id}`, { token: t.nurse });
    expect(held.body).toEqual(r);

    svc.runtime.scheduler.trigger('inventory-reservation-ttl');
    await until('the TTL job released it', async () => {
      const now = await svc.request<Reservation>('GET', `${RESERVATIONS}/${r.id}`, { token: t.nurse });
      return now.body.state === 'released';
    });
    const released = await svc.request<Reservation>('GET', `${RESERVATIONS}/${r.id}`, { token: t.nurse });
    expect(released.body).toEqual({
      ...r,
      state: 'released',
      releaseReason: 'expired',
      releasedAt: '2027-03-10T12:00:05.000Z',
    });
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({ reserved: 0, available: 10 });
    const again = await svc.request('POST', `${RESERVATIONS}/${r.id}/confirm`, { token: t.pharmacy });
    expect(expectProblem(again, 409)).toMatchObject({
      code: 'reservation_released',
      releaseReason: 'expired',
    });
    clock.set('2027-03-10T12:00:00.000Z');
  });
});

describe('inventory.stock-low.v1', () => {
  it('is published once per crossing below the threshold, and re-armed when stock is back at or above it', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 10, lots: [{ lotNumber: 'L1', expiry: '2027-12-31', quantity: 15 }] }),
    );
    const lows = async () => (await eventsOf(item.id, 'inventory.stock-low.v1')).map((d) => d.available);
    await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 4 }); // 11
    expect(await lows()).toEqual([]);
    const r2 = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 2 }); // 9: crosses
    expect(await lows()).toEqual([9]);
    await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 1 }); // 8: still below
    expect(await lows()).toEqual([9]);
    await svc.request('POST', `${RESERVATIONS}/${r2.id}/release`, { token: t.pharmacy }); // 10: re-armed
    expect(await lows()).toEqual([9]);
    await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 3 }); // 7: crosses again
    expect(await lows()).toEqual([9, 7]);
    const last = (await eventsOf(item.id, 'inventory.stock-low.v1'))[1];
    expect(last).toMatchObject({ available: 7, reorderThreshold: 10 });
    expect((last?.item as InventoryItem).available).toBe(7);
  });

  it('a lower threshold re-arms it, a higher one can cross it (PUT)', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 10, lots: [{ lotNumber: 'L1', expiry: '2027-12-31', quantity: 8 }] }),
    );
    const lows = async () => (await eventsOf(item.id, 'inventory.stock-low.v1')).length;
    expect(await lows()).toBe(1); // created below its threshold
    const put = (threshold: number, version: number) =>
      svc.request<InventoryItem>('PUT', `${INVENTORY}/${item.id}`, {
        token: t.pharmacist,
        headers: { 'if-match': `"v${version}"` },
        body: {
          sku: item.sku,
          name: item.name,
          category: item.category,
          unit: item.unit,
          reorderThreshold: threshold,
          reorderQuantity: item.reorderQuantity,
        },
      });
    expect((await put(5, 1)).status).toBe(200); // 8 ≥ 5: re-armed
    expect(await lows()).toBe(1);
    expect((await put(9, 2)).status).toBe(200); // 8 < 9: crosses
    expect(await lows()).toBe(2);
  });
});

describe('reorder and receipt', () => {
  it('a reorder places a purchase order (202), the receipt adds its lot once and publishes replenished', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({
        reorderThreshold: 10,
        reorderQuantity: 100,
        lots: [{ lotNumber: 'OLD', expiry: '2027-12-31', quantity: 4 }],
      }),
    );
    expect(await eventsOf(item.id, 'inventory.stock-low.v1')).toHaveLength(1);
    const placed = await svc.request<PurchaseOrder>('POST', `${INVENTORY}/${item.id}/reorder`, {
      token: pharmacist,
      body: {},
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(202);
    expect(placed.headers.get('location')).toBe(`${ORDERS}/${placed.body.id}`);
    expect(placed.body).toEqual({
      id: placed.body.id,
      itemId: item.id,
      quantity: 100,
      supplier: 'Acme Pharma',
      status: 'ordered',
      orderedBy: PHARMACIST,
      orderedAt: '2027-03-10T12:00:00.000Z',
    });
    const small = await svc.request<PurchaseOrder>('POST', `${INVENTORY}/${item.id}/reorder`, {
      token: pharmacist,
      body: { quantity: 40, note: 'urgent' },
    });
    expect(small.body).toMatchObject({ quantity: 40, note: 'urgent', status: 'ordered' });
    const { items: listed } = await readAllPages<PurchaseOrder>(svc, ORDERS, t.nurse, {
      itemId: item.id,
      limit: 1,
    });
    expect(listed.map((o) => o.id)).toEqual([placed.body.id, small.body.id]);

    // an expiry already past, and a lot number the item has with another expiry: refused, nothing changes
    const before = await snapshot(svc);
    const past = await svc.request('POST', `${ORDERS}/${placed.body.id}/receive`, {
      token: pharmacist,
      body: { lotNumber: 'NEW', expiry: '2027-03-09', quantity: 100 },
    });
    expect(expectValidationErrors(past)).toEqual([
      { path: '/body/expiry', message: 'is in the past (today is 2027-03-10)' },
    ]);
    const zero = await svc.request('POST', `${ORDERS}/${placed.body.id}/receive`, {
      token: pharmacist,
      body: { lotNumber: 'NEW', expiry: '2028-01-31', quantity: 0 },
    });
    expectProblem(zero, 400);
    const clash = await svc.request('POST', `${ORDERS}/${placed.body.id}/receive`, {
      token: pharmacist,
      body: { lotNumber: 'OLD', expiry: '2028-01-31' },
    });
    expect(expectProblem(clash, 409)).toMatchObject({
      code: 'lot_expiry_conflict',
      lotNumber: 'OLD',
      expiry: '2027-12-31',
    });
    expect(await snapshot(svc)).toEqual(before);

    clock.set('2027-03-11T09:00:00.000Z');
    const received = await svc.request<{ order: PurchaseOrder; item: InventoryItem }>(
      'POST',
      `${ORDERS}/${placed.body.id}/receive`,
      { token: pharmacist, body: { lotNumber: 'NEW', expiry: '2028-01-31' } },
    );
    expect(received.status, JSON.stringify(received.body)).toBe(200);
    expect(received.body.order).toEqual({
      ...placed.body,
      status: 'received',
      receipt: {
        lotNumber: 'NEW',
        expiry: '2028-01-31',
        quantity: 100,
        receivedBy: PHARMACIST,
        receivedAt: '2027-03-11T09:00:00.000Z',
      },
    });
    expect(received.body.item).toMatchObject({
      quantityOnHand: 104,
      available: 104,
      lastRestockAt: '2027-03-11T09:00:00.000Z',
      lots: [
        { lotNumber: 'OLD', expiry: '2027-12-31', quantity: 4, reserved: 0, expired: false },
        { lotNumber: 'NEW', expiry: '2028-01-31', quantity: 100, reserved: 0, expired: false },
      ],
    });
    expect(await fetchItem(svc, t.nurse, item.id)).toEqual(received.body.item);
    const replenished = await eventsOf(item.id, 'inventory.stock-replenished.v1');
    expect(replenished).toEqual([{ item: received.body.item, order: received.body.order }]);
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'NEW', quantity: 100, reserved: 0, ledger: 100 },
      { lotNumber: 'OLD', quantity: 4, reserved: 0, ledger: 4 },
    ]);
    const { rows } = await svc.db.query<{ order_id: string; reason: string }>(
      `SELECT order_id, reason FROM ledger WHERE item_id = $1 AND lot_number = 'NEW'`,
      [item.id],
    );
    expect(rows).toEqual([{ order_id: placed.body.id, reason: 'receipt' }]);

    // receiving it twice: 409, nothing changes
    const again = await svc.request('POST', `${ORDERS}/${placed.body.id}/receive`, {
      token: pharmacist,
      body: { lotNumber: 'NEW2', expiry: '2028-01-31' },
    });
    expect(expectProblem(again, 409).code).toBe('order_already_received');
    expect((await fetchItem(svc, t.nurse, item.id)).quantityOnHand).toBe(104);

    // back above the threshold: re-armed, so the next crossing publishes again
    const { rows: armed } = await svc.db.query<{ low_armed: boolean }>(
      'SELECT low_armed FROM items WHERE id = $1',
      [item.id],
    );
    expect(armed[0]?.low_armed).toBe(true);
    clock.set('2027-03-10T12:00:00.000Z');
  });

  it('404 for an unknown order and an unknown item', async () => {
    const unknown = '0190f3a0-0000-7000-8000-0000000000ff';
    const receive = await svc.request('POST', `${ORDERS}/${unknown}/receive`, {
      token: pharmacist,
      body: { lotNumber: 'X', expiry: '2028-01-31' },
    });
    expect(expectProblem(receive, 404).code).toBe('order_not_found');
    expect(
      expectProblem(await svc.request('GET', `${ORDERS}/${unknown}`, { token: t.nurse }), 404).code,
    ).toBe('order_not_found');
    const reorder = await svc.request('POST', `${INVENTORY}/${unknown}/reorder`, {
      token: pharmacist,
      body: {},
    });
    expect(expectProblem(reorder, 404).code).toBe('item_not_found');
  });
});
