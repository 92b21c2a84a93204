import {
  assertValidEvent,
  type DispenseRecord,
  type InventoryItem,
  type Medication,
  type Prescription,
  type PrescriptionFill,
  type WardDispense,
} from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem, postCreated } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MEDICATIONS,
  PRESCRIPTIONS,
  addMedication,
  amoxicillin,
  eventually,
  item,
  prescribed,
  register,
  unique,
  useWorld,
  type World,
} from './helpers.js';

/**
 * The dispensing saga against a real Inventory on real RabbitMQ: reserve → confirm → dispense,
 * Inventory decrementing the reserved lots once when medication.dispensed.v1 reaches it.
 */
const world = useWorld();
let w: World;
let patientId: string;

beforeAll(async () => {
  w = world();
  patientId = (await register(w)).id;
});

/** An Inventory item with these lots, and a medication stocked as it. */
async function stocked(lots: { lotNumber: string; expiry: string; quantity: number }[]) {
  const stock = await postCreated<InventoryItem>(w.inventory, '/api/v1/inventory', w.tokens.pharmacist, {
    sku: `AMOX-${unique()}`,
    name: 'Amoxicillin 500 mg capsules',
    category: 'antibiotics',
    unit: 'capsule',
    reorderThreshold: 0,
    reorderQuantity: 100,
    lots,
  });
  const med = await addMedication(w, amoxicillin({ inventoryItemId: stock.id }));
  return { stock, med };
}

const itemOf = async (id: string) =>
  (await w.inventory.request<InventoryItem>('GET', `/api/v1/inventory/${id}`, { token: w.tokens.pharmacist }))
    .body;
const rxOf = async (id: string) =>
  (await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${id}`, { token: w.tokens.pharmacist }))
    .body;
const fill = (id: string, headers: Record<string, string> = {}) =>
  w.pharmacy.request<PrescriptionFill>('POST', `${PRESCRIPTIONS}/${id}/fill`, {
    token: w.tokens.pharmacist,
    headers,
  });

/** Stock settles once Inventory consumed every dispense: waits for `onHand`, then checks it stays there. */
async function settlesAt(stockId: string, onHand: number) {
  await eventually(async () => (await itemOf(stockId)).quantityOnHand === onHand, `on hand ${onHand}`);
  await new Promise((r) => setTimeout(r, 300));
  const after = await itemOf(stockId);
  expect(after.quantityOnHand).toBe(onHand);
  expect(after.reserved).toBe(0);
  return after;
}

describe('filling a prescription', () => {
  it('completes at once with enough stock, taking the earlier-expiring lot first and recording both; stock drops once', async () => {
    const { stock, med } = await stocked([
      { lotNumber: 'LATE', expiry: '2099-06-30', quantity: 30 },
      { lotNumber: 'EARLY', expiry: '2099-01-31', quantity: 10 },
    ]);
    const rx = await prescribed(w, { patientId, items: [item(med.id, { quantity: 15, refills: 1 })] });

    const res = await fill(rx.id);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      state: 'completed',
      quantities: [
        {
          medicationId: med.id,
          itemId: stock.id,
          quantity: 15,
          lots: [
            { lotNumber: 'EARLY', quantity: 10 },
            { lotNumber: 'LATE', quantity: 5 },
          ],
        },
      ],
    });
    const after = await rxOf(rx.id);
    expect(after.status).toBe('filled');
    expect(after.items[0]).toMatchObject({ dispensed: 15, pending: 0, refillsRemaining: 1 });
    expect(after.fills).toEqual([res.body]);

    const dispensed = await outboxRows(w.pharmacy.db, { type: 'medication.dispensed.v1' });
    const mine = dispensed.filter((e) => e.envelope.data.prescriptionId === rx.id);
    expect(mine).toHaveLength(1);
    assertValidEvent(mine[0]?.envelope);
    expect(mine[0]?.envelope.data).toMatchObject({
      medicationId: med.id,
      patientId,
      itemId: stock.id,
      quantity: 15,
      reservationId: res.body.quantities[0]?.reservationId,
      lots: [
        { lotNumber: 'EARLY', quantity: 10 },
        { lotNumber: 'LATE', quantity: 5 },
      ],
    });
    const filled = await outboxRows(w.pharmacy.db, { type: 'prescription.filled.v1', subject: rx.id });
    expect(filled).toHaveLength(1);
    assertValidEvent(filled[0]?.envelope);

    const settled = await settlesAt(stock.id, 25);
    // the early lot is used up (Inventory lists only lots holding stock)
    expect(settled.lots.map((l) => [l.lotNumber, l.quantity])).toEqual([['LATE', 25]]);

    // the refill takes the last fill; then none is left
    const refill = await fill(rx.id);
    expect(refill.status, JSON.stringify(refill.body)).toBe(201);
    const done = await rxOf(rx.id);
    expect(done.status).toBe('completed');
    expect(done.items[0]).toMatchObject({ dispensed: 30, pending: 0, refillsRemaining: 0 });
    await settlesAt(stock.id, 10);
    const none = await fill(rx.id);
    expect(expectProblem(none, 409).code).toBe('not_fillable');
  });

  it('rejects a fill with short stock, with its reason, leaving stock, reservations and refills as they were', async () => {
    const { stock, med } = await stocked([{ lotNumber: 'ONLY', expiry: '2099-01-31', quantity: 5 }]);
    const rx = await prescribed(w, { patientId, items: [item(med.id, { quantity: 10, refills: 2 })] });
    const before = await rxOf(rx.id);

    const res = await fill(rx.id);
    const problem = expectProblem(res, 409) as Record<string, unknown>;
    expect(problem.code).toBe('fill_rejected');
    expect(problem.reason).toContain('insufficient stock');

    const after = await rxOf(rx.id);
    expect(after.status).toBe('active');
    expect(after.version).toBe(before.version);
    expect(after.items).toEqual(before.items);
    expect(after.fills).toEqual([
      expect.objectContaining({ id: problem.fillId, state: 'rejected', reason: problem.reason }),
    ]);
    const inv = await itemOf(stock.id);
    expect(inv).toMatchObject({ quantityOnHand: 5, reserved: 0, available: 5 });
    const { rows } = await w.inventory.db.query('SELECT id FROM reservations WHERE item_id = $1', [stock.id]);
    expect(rows).toEqual([]);
    const events = await outboxRows(w.pharmacy.db, { type: 'medication.dispensed.v1' });
    expect(events.filter((e) => e.envelope.data.itemId === stock.id)).toEqual([]);
  });

  it('makes a double-clicked fill (same Idempotency-Key) one fill', async () => {
    const { stock, med } = await stocked([{ lotNumber: 'L1', expiry: '2099-01-31', quantity: 50 }]);
    const rx = await prescribed(w, { patientId, items: [item(med.id, { quantity: 10, refills: 3 })] });
    const key = `fill-${unique()}`;
    const [a, b] = await Promise.all([
      fill(rx.id, { 'idempotency-key': key }),
      fill(rx.id, { 'idempotency-key': key }),
    ]);
    const statuses = [a.status, b.status].sort();
    // the second either replays the first's answer or is told the first is still in progress
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]);
    const again = await fill(rx.id, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe((a.status === 201 ? a : b).body.id);
    expect((await rxOf(rx.id)).fills).toHaveLength(1);
    await settlesAt(stock.id, 40);
  });

  it('refuses a cancelled prescription and a medication with no inventory item (409), writing no fill', async () => {
    const { med } = await stocked([{ lotNumber: 'L1', expiry: '2099-01-31', quantity: 50 }]);
    const rx = await prescribed(w, { patientId, items: [item(med.id)] });
    await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${rx.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'allergy reported at the counter' },
    });
    expect(expectProblem(await fill(rx.id), 409).code).toBe('not_fillable');

    const unstocked = await addMedication(w, amoxicillin());
    const rx2 = await prescribed(w, { patientId, items: [item(unstocked.id)] });
    expect(expectProblem(await fill(rx2.id), 409).code).toBe('medication_not_stocked');
    expect((await rxOf(rx2.id)).fills).toEqual([]);
  });
});

describe('fills competing for the last units', () => {
  it('20 parallel fills for the last 5 units: exactly 5 complete, 15 are rejected, and stock ends at 0, never below', async () => {
    const { stock, med } = await stocked([{ lotNumber: 'LAST', expiry: '2099-01-31', quantity: 5 }]);
    const rxs: Prescription[] = [];
    for (let i = 0; i < 20; i += 1)
      rxs.push(await prescribed(w, { patientId, items: [item(med.id, { quantity: 1 })] }));
    const results = await Promise.all(rxs.map((rx) => fill(rx.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    for (const r of results.filter((x) => x.status === 409))
      expect((r.body as unknown as Record<string, unknown>).reason).toContain('insufficient stock');
    await settlesAt(stock.id, 0);
    const { rows } = await w.inventory.db.query<{ min: number }>(
      'SELECT min(quantity)::int AS min FROM lots WHERE item_id = $1',
      [stock.id],
    );
    expect(rows[0]?.min).toBe(0);
    const filled = await Promise.all(rxs.map((rx) => rxOf(rx.id)));
    expect(filled.filter((p) => p.status === 'completed')).toHaveLength(5);
    expect(filled.filter((p) => p.status === 'active')).toHaveLength(15);
  });
});

describe('ward dispenses', () => {
  it('dispenses ward stock without a prescription and lists it in the history with its lots', async () => {
    const { stock, med } = await stocked([
      { lotNumber: 'W2', expiry: '2099-02-28', quantity: 4 },
      { lotNumber: 'W1', expiry: '2099-01-31', quantity: 2 },
    ]);
    const res = await w.pharmacy.request<WardDispense>('POST', `${MEDICATIONS}/${med.id}/dispense`, {
      token: w.tokens.pharmacist,
      body: { quantity: 3, patientId, reason: 'ward round, bay 4' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      state: 'completed',
      medicationId: med.id,
      patientId,
      note: 'ward round, bay 4',
    });
    await settlesAt(stock.id, 3);

    const history = await w.pharmacy.request<{ items: DispenseRecord[] }>(
      'GET',
      `${MEDICATIONS}/${med.id}/dispenses`,
      {
        token: w.tokens.nurse,
      },
    );
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      expect.objectContaining({
        fillId: res.body.id,
        quantity: 3,
        patientId,
        lots: [
          { lotNumber: 'W1', quantity: 2 },
          { lotNumber: 'W2', quantity: 1 },
        ],
        note: 'ward round, bay 4',
      }),
    ]);

    const short = await w.pharmacy.request('POST', `${MEDICATIONS}/${med.id}/dispense`, {
      token: w.tokens.pharmacist,
      body: { quantity: 4, reason: 'ward round' },
    });
    expect(expectProblem(short, 409).code).toBe('fill_rejected');
    await settlesAt(stock.id, 3);
  });

  it('needs medications:dispense', async () => {
    const m: Medication = await addMedication(w);
    const res = await w.pharmacy.request('POST', `${MEDICATIONS}/${m.id}/dispense`, {
      token: w.tokens.nurse,
      body: { quantity: 1, reason: 'x' },
    });
    expect(expectProblem(res, 403).detail).toContain('medications:dispense');
  });
});
