import type { InventoryItem, PurchaseOrder } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectAccessMatrix, expectErrorCatalogue, expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  INVENTORY,
  ORDERS,
  RESERVATIONS,
  createItem,
  newItem,
  snapshot,
  useInventoryService,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;
let item: InventoryItem;
let order: PurchaseOrder;

useInventoryService(async (started, tokens) => {
  svc = started;
  t = tokens;
  item = await createItem(
    svc,
    t.pharmacist,
    newItem({ lots: [{ lotNumber: 'L1', expiry: '2099-12-31', quantity: 30 }] }),
  );
  order = (
    await svc.request<PurchaseOrder>('POST', `${INVENTORY}/${item.id}/reorder`, {
      token: t.pharmacist,
      body: {},
    })
  ).body;
});

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(svc, { params: { id: item.id }, untouched: () => snapshot(svc) });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${INVENTORY}`,
        `POST ${INVENTORY}`,
        `GET ${INVENTORY}/:id`,
        `PUT ${INVENTORY}/:id`,
        `POST ${INVENTORY}/:id/adjustments`,
        `GET ${INVENTORY}/:id/adjustments`,
        `POST ${INVENTORY}/:id/reorder`,
        `POST ${RESERVATIONS}`,
        `GET ${RESERVATIONS}/:id`,
        `POST ${RESERVATIONS}/:id/confirm`,
        `POST ${RESERVATIONS}/:id/release`,
        `GET ${ORDERS}`,
        `GET ${ORDERS}/:id`,
        `POST ${ORDERS}/:id/receive`,
      ].sort(),
    );
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(svc, new URL('../src/', import.meta.url));
    expect(used.sort()).toEqual(
      [
        'item_not_found',
        'reservation_not_found',
        'order_not_found',
        'sku_exists',
        'insufficient_stock',
        'reference_in_use',
        'reservation_released',
        'reservation_consumed',
        'reservation_expired',
        'insufficient_lot_stock',
        'order_already_received',
        'lot_expiry_conflict',
        // (the use cases' 403 and 400 come from the kit's authorize and invalid)
      ].sort(),
    );
  });
});

describe('which roles may read, change and approve stock (roles.ts)', () => {
  it.each(['physician', 'nurse', 'pharmacist', 'manager', 'admin'])(
    'role %s may read stock',
    async (role) => {
      const token = await svc.keys.mint({ roles: [role] });
      expect((await svc.request('GET', `${INVENTORY}/${item.id}`, { token })).status).toBe(200);
    },
  );

  it.each(['receptionist', 'billing', 'auditor'])('role %s may not read stock', async (role) => {
    const token = await svc.keys.mint({ roles: [role] });
    expect(expectProblem(await svc.request('GET', INVENTORY, { token }), 403).detail).toBe(
      'requires the inventory:read permission',
    );
  });

  it.each(['physician', 'nurse'])('role %s may neither change stock nor reorder', async (role) => {
    const token = await svc.keys.mint({ roles: [role] });
    const before = await snapshot(svc);
    for (const [path, body, permission] of [
      [INVENTORY, newItem(), 'inventory:write'],
      [
        `${INVENTORY}/${item.id}/adjustments`,
        { lotNumber: 'L1', quantity: -1, reason: 'damaged' },
        'inventory:write',
      ],
      [RESERVATIONS, { itemId: item.id, quantity: 1, reference: 'r' }, 'inventory:write'],
      [`${INVENTORY}/${item.id}/reorder`, {}, 'inventory:approve'],
      [`${ORDERS}/${order.id}/receive`, { lotNumber: 'N', expiry: '2099-01-01' }, 'inventory:approve'],
    ] as const) {
      const res = await svc.request('POST', path, { token, body });
      expect(expectProblem(res, 403).detail).toBe(`requires the ${permission} permission`);
    }
    expect(await snapshot(svc)).toEqual(before);
  });

  it('the pharmacy service identity (inventory:read|write) may reserve but not reorder', async () => {
    const res = await svc.request('POST', RESERVATIONS, {
      token: t.pharmacy,
      body: { itemId: item.id, quantity: 1, reference: 'svc-ok' },
    });
    expect(res.status).toBe(201);
    const reorder = await svc.request('POST', `${INVENTORY}/${item.id}/reorder`, {
      token: t.pharmacy,
      body: {},
    });
    expect(expectProblem(reorder, 403).detail).toBe('requires the inventory:approve permission');
  });
});
