import type {
  InventoryItem,
  Medication,
  Prescription,
  PrescriptionFill,
  PurchaseOrder,
  Staff,
} from '@hms/contracts';
import { gatewayService } from '@hms/gateway';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import { outboxRows, startBehindGateway, type RunningService } from '@hms/testkit';
import { expectingStatus, useStarted } from '@hms/testkit/vitest';
import { describe, expect, test } from 'vitest';
import { pharmacyService } from '../src/service.js';
import { amoxicillin, item, patientInput, staffInput, unique } from './helpers.js';

/**
 * Issue #12's end-to-end flow through the gateway, with ES256 tokens verified against the JWKS
 * by the gateway and by each service: Staff, Patient, Inventory and Pharmacy on one bus (RabbitMQ
 * under CI). A physician linked to a staff record prescribes, a pharmacist fills, stock drops and
 * crosses its threshold once, a reorder is placed and received, and stock is replenished.
 */
async function startPlatform() {
  const p = await startBehindGateway(gatewayService, [
    staffService,
    patientService,
    inventoryService,
    pharmacyService,
  ]);
  return {
    ...p,
    inventory: p.services.inventory as RunningService,
    tokens: {
      manager: await p.keys.mint({ roles: ['manager'] }),
      desk: await p.keys.mint({ roles: ['receptionist'] }),
      pharmacist: await p.keys.mint({ roles: ['pharmacist'] }),
    },
  };
}

const platform = useStarted(startPlatform, 120_000);
/** A request through the gateway; fails the test unless it answers `status`. */
const call = expectingStatus(() => platform().gateway);

describe('medication flow end to end, through the gateway', () => {
  test('a physician prescribes, a pharmacist fills, stock drops and fires stock-low once, a reorder is received and replenishes', async () => {
    const { tokens, keys, inventory } = platform();
    const member = await call<Staff>('POST', '/api/v1/staff', tokens.manager, 201, staffInput());
    const physician = await keys.mint({ roles: ['physician'], staffId: member.id });
    const patient = await call<{ id: string }>(
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      tokens.desk,
      201,
      patientInput(),
    );

    // 30 capsules on hand, reordered below 10
    const stock = await call<InventoryItem>('POST', '/api/v1/inventory', tokens.pharmacist, 201, {
      sku: `AMOX-${unique()}`,
      name: 'Amoxicillin 500 mg capsules',
      category: 'antibiotics',
      unit: 'capsule',
      reorderThreshold: 10,
      reorderQuantity: 50,
      lots: [{ lotNumber: 'E2E-1', expiry: '2099-01-31', quantity: 30 }],
    });
    expect(stock).toMatchObject({ quantityOnHand: 30, available: 30 });
    const med = await call<Medication>(
      'POST',
      '/api/v1/medications',
      tokens.pharmacist,
      201,
      amoxicillin({ inventoryItemId: stock.id }),
    );

    // the physician prescribes (as the prescriber their token is linked to)
    const rx = await call<Prescription>('POST', '/api/v1/prescriptions', physician, 201, {
      patientId: patient.id,
      items: [item(med.id, { quantity: 21 })],
    });
    expect(rx.status).toBe('active');

    // the pharmacist fills it: the saga completes at once
    const filled = await call<PrescriptionFill>(
      'POST',
      `/api/v1/prescriptions/${rx.id}/fill`,
      tokens.pharmacist,
      201,
    );
    expect(filled.state).toBe('completed');
    const read = await call<Prescription>('GET', `/api/v1/prescriptions/${rx.id}`, tokens.pharmacist, 200);
    expect(read.status).toBe('completed');
    expect(read.fills[0]).toMatchObject({ state: 'completed' });
    expect(read.fills[0]?.quantities[0]).toMatchObject({ lots: [{ lotNumber: 'E2E-1', quantity: 21 }] });

    // stock drops once Inventory consumed medication.dispensed.v1
    const itemNow = () => call<InventoryItem>('GET', `/api/v1/inventory/${stock.id}`, tokens.pharmacist, 200);
    await expect
      .poll(
        async () => {
          const i = await itemNow();
          return { onHand: i.quantityOnHand, reserved: i.reserved, available: i.available };
        },
        { timeout: 15_000, interval: 100 },
      )
      .toEqual({ onHand: 9, reserved: 0, available: 9 });

    // stock-low fired once for this crossing
    const lows = () => outboxRows(inventory.db, { type: 'inventory.stock-low.v1', subject: stock.id });
    await expect.poll(async () => (await lows()).length, { timeout: 10_000, interval: 100 }).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await lows()).toHaveLength(1);

    // a reorder (inventory:approve) placed, then received: stock rises, replenished published
    const order = await call<PurchaseOrder>(
      'POST',
      `/api/v1/inventory/${stock.id}/reorder`,
      tokens.pharmacist,
      202,
      {},
    );
    expect(order).toMatchObject({ itemId: stock.id, quantity: 50 });
    await call('POST', `/api/v1/inventory/orders/${order.id}/receive`, tokens.pharmacist, 200, {
      lotNumber: 'E2E-2',
      expiry: '2099-12-31',
      quantity: 50,
    });
    const after = await itemNow();
    expect(after).toMatchObject({ quantityOnHand: 59, reserved: 0, available: 59 });
    expect(after.lots.map((l) => [l.lotNumber, l.quantity])).toEqual(
      expect.arrayContaining([
        ['E2E-1', 9],
        ['E2E-2', 50],
      ]),
    );
    const replenished = await outboxRows(inventory.db, {
      type: 'inventory.stock-replenished.v1',
      subject: stock.id,
    });
    expect(replenished).toHaveLength(1);
    expect(replenished[0]?.envelope.data).toMatchObject({ order: { id: order.id } });
    // back above the threshold: no further stock-low
    expect(await lows()).toHaveLength(1);

    // a second receipt of the same order is refused
    const twice = await platform().gateway.request<{ code: string }>(
      'POST',
      `/api/v1/inventory/orders/${order.id}/receive`,
      { token: tokens.pharmacist, body: { lotNumber: 'E2E-3', expiry: '2099-12-31', quantity: 50 } },
    );
    expect(twice.status).toBe(409);
  });
});
