import type { InventoryItem, Prescription, Reservation } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import { postCreated } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PRESCRIPTIONS,
  addMedication,
  amoxicillin,
  eventually,
  item,
  prescribed,
  register,
  settableClock,
  unique,
  useWorld,
  type World,
} from './helpers.js';

/**
 * A Pharmacy that stopped mid-saga: the fill was recorded pending and its stock reserved at
 * Inventory, then nothing (the process died before confirming). The resume job, once the fill is
 * a minute old on Pharmacy's clock, finishes it: the same reference answers the same reservation,
 * which is confirmed and dispensed, and stock drops once.
 */
describe('resuming a fill a stopped Pharmacy left pending', () => {
  const clock = settableClock(new Date().toISOString());
  const world = useWorld({ pharmacyClock: clock, pharmacyEnv: { PHARMACY_RESUME_JOB_MS: '100' } });
  let w: World;
  beforeAll(() => {
    w = world();
  });

  it('finishes it: confirmed, dispensed once, the prescription used up', async () => {
    const stock = await postCreated<InventoryItem>(w.inventory, '/api/v1/inventory', w.tokens.pharmacist, {
      sku: `AMOX-${unique()}`,
      name: 'Amoxicillin 500 mg capsules',
      category: 'antibiotics',
      unit: 'capsule',
      reorderThreshold: 0,
      reorderQuantity: 100,
      lots: [{ lotNumber: 'R1', expiry: '2099-01-31', quantity: 20 }],
    });
    const med = await addMedication(w, amoxicillin({ inventoryItemId: stock.id }));
    const patientId = (await register(w)).id;
    const rx = await prescribed(w, { patientId, items: [item(med.id, { quantity: 8 })] });

    // what steps 1 and 2 of the saga left behind when the process died
    const fillId = uuidv7();
    await w.pharmacy.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO fills (id, kind, prescription_id, patient_id, state, created_by, created_at)
         VALUES ($1, 'fill', $2, $3, 'pending', 'user-1', $4)`,
        [fillId, rx.id, patientId, clock.now()],
      );
      await tx.query(
        `INSERT INTO fill_lines (fill_id, position, medication_id, item_id, quantity, dispense_id)
         VALUES ($1, 0, $2, $3, 8, $4)`,
        [fillId, med.id, stock.id, uuidv7()],
      );
      await tx.query('UPDATE prescription_items SET pending = 8 WHERE prescription_id = $1', [rx.id]);
    });
    const svcToken = await w.keys.mint({ sub: 'svc:pharmacy', scope: ['inventory:write', 'inventory:read'] });
    const held = await postCreated<Reservation>(w.inventory, '/api/v1/inventory/reservations', svcToken, {
      itemId: stock.id,
      quantity: 8,
      reference: `${fillId}/0`,
    });
    expect(held.state).toBe('held');

    // a minute later on Pharmacy's clock the job takes it over
    clock.set(new Date(clock.now().getTime() + 61_000).toISOString());
    const read = async () =>
      (
        await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${rx.id}`, {
          token: w.tokens.pharmacist,
        })
      ).body;
    await eventually(async () => (await read()).fills[0]?.state === 'completed', 'the resume job');
    const after = await read();
    // no refills: the one fill used the prescription up
    expect(after.status).toBe('completed');
    expect(after.items[0]).toMatchObject({ dispensed: 8, pending: 0 });
    expect(after.fills[0]?.quantities[0]).toMatchObject({
      reservationId: held.id,
      lots: [{ lotNumber: 'R1', quantity: 8 }],
    });
    await eventually(
      async () =>
        (
          await w.inventory.request<InventoryItem>('GET', `/api/v1/inventory/${stock.id}`, {
            token: w.tokens.pharmacist,
          })
        ).body.quantityOnHand === 12,
      'stock to drop',
    );
    await new Promise((r) => setTimeout(r, 300));
    const inv = await w.inventory.request<InventoryItem>('GET', `/api/v1/inventory/${stock.id}`, {
      token: w.tokens.pharmacist,
    });
    expect(inv.body).toMatchObject({ quantityOnHand: 12, reserved: 0 });
  });
});
