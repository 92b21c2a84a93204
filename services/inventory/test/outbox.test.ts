import { assertValidEvent, dataSchemaUri, type EventType, type PurchaseOrder } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { describe, expect, it } from 'vitest';
import {
  INVENTORY,
  ORDERS,
  createItem,
  newItem,
  outboxOf,
  reserved,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * What Inventory writes to its outbox is what the contracts say: every envelope validates against
 * its registered schema, comes from /hms/inventory, and is about the item (its subject).
 */
let svc: RunningService;
let t: Tokens;

useInventoryService(
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  { clock: { now: () => new Date('2027-03-10T12:00:00.000Z') } },
);

describe('the outbox', () => {
  it('holds valid stock-low, stock-adjusted and stock-replenished events about the item', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 5, lots: [{ lotNumber: 'L1', expiry: '2027-12-31', quantity: 6 }] }),
    );
    await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 2 });
    const adjusted = await svc.request('POST', `${INVENTORY}/${item.id}/adjustments`, {
      token: t.pharmacist,
      body: { lotNumber: 'L1', quantity: -1, reason: 'damaged' },
    });
    expect(adjusted.status).toBe(201);
    const order = await svc.request<PurchaseOrder>('POST', `${INVENTORY}/${item.id}/reorder`, {
      token: t.pharmacist,
      body: {},
    });
    const received = await svc.request('POST', `${ORDERS}/${order.body.id}/receive`, {
      token: t.pharmacist,
      body: { lotNumber: 'L2', expiry: '2028-06-30' },
    });
    expect(received.status).toBe(200);

    const rows = await outboxOf(svc, item.id);
    expect(rows.map((r) => r.type)).toEqual([
      'inventory.stock-low.v1',
      'inventory.stock-adjusted.v1',
      'inventory.stock-replenished.v1',
    ]);
    for (const row of rows) {
      expect(() => assertValidEvent(row.envelope)).not.toThrow();
      expect(row.envelope).toMatchObject({
        source: '/hms/inventory',
        subject: item.id,
        dataschema: dataSchemaUri(row.type as EventType),
      });
    }
  });
});
