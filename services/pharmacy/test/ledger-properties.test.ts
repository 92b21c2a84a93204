import { randomUUID } from 'node:crypto';
import type { InventoryItem, Medication, PurchaseOrder, Staff } from '@hms/contracts';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import { createTestBus, createTestKeys, outboxRows, prng, startService } from '@hms/testkit';
import { postCreated, useStarted } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { pharmacyService } from '../src/service.js';
import {
  MEDICATIONS,
  PRESCRIPTIONS,
  addMedication,
  amoxicillin,
  eventually,
  item,
  prescribed,
  register,
  settableClock,
  staffInput,
  unique,
  type World,
} from './helpers.js';

/**
 * A ledger property test across Pharmacy and Inventory: a seeded random sequence of prescription
 * fills and ward dispenses (through Pharmacy's API, running the saga against Inventory), receipts
 * of reorders, adjustments and hours passing on Inventory's clock (its expiry job writing expired
 * lots off), with every `medication.dispensed.v1` Pharmacy published delivered up to three times
 * (the same envelope again: the inbox drops it) and once more under a new event id (the
 * per-reservation guard drops it). Afterwards, per item: each lot's quantity equals its ledger
 * entries, on hand equals the sum of the lots, no lot is negative, no lot was dispensed after its
 * last usable day (in the facility's zone), and Pharmacy's completed fills add up to Inventory's
 * dispenses.
 *
 * `LEDGER_PROPERTY_OPS` sets the number of operations (80 by default); `LEDGER_PROPERTY_SEED`
 * replays a run (the seed is printed). Operations run one at a time.
 */
const OPS = Number(process.env.LEDGER_PROPERTY_OPS ?? 80);
const SEED = Number(process.env.LEDGER_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ZONE = 'Europe/Berlin';
const HOUR = 3_600_000;
const INVENTORY = '/api/v1/inventory';
const ORDERS = '/api/v1/inventory/orders';

/** Inventory's clock: the test moves it to let lots expire (Pharmacy keeps the real one). */
const clock = settableClock(new Date().toISOString());

/**
 * The helpers' world (Staff, Patient, Inventory, Pharmacy on one bus), but with Inventory on the
 * settable clock, in the facility zone, its reservation and expiry jobs running every 100 ms.
 */
async function startLedgerWorld(): Promise<World> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const staff = await startService(staffService, { keys, bus: bus.bus });
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const inventory = await startService(inventoryService, {
    keys,
    bus: bus.bus,
    clock,
    env: {
      FACILITY_TIMEZONE: ZONE,
      INVENTORY_RESERVATION_JOB_MS: '100',
      INVENTORY_EXPIRY_JOB_MS: '100',
    },
  });
  const pharmacy = await startService(pharmacyService, {
    keys,
    bus: bus.bus,
    env: { STAFF_URL: staff.url, PATIENT_URL: patient.url, INVENTORY_URL: inventory.url },
  });
  const manager = await keys.mint({ roles: ['manager'] });
  const physician = await postCreated<Staff>(staff, '/api/v1/staff', manager, staffInput());
  return {
    staff,
    patient,
    pharmacy,
    inventory,
    keys,
    physician,
    tokens: {
      physician: await keys.mint({ roles: ['physician'], staffId: physician.id }),
      admin: await keys.mint({ roles: ['admin'] }),
      pharmacist: await keys.mint({ roles: ['pharmacist'] }),
      nurse: await keys.mint({ roles: ['nurse'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
      manager,
    },
    async close() {
      await pharmacy.close();
      await inventory.close();
      await patient.close();
      await staff.close();
      await bus.close();
    },
  };
}

const world = useStarted(startLedgerWorld, 60_000);
let w: World;
let patientId: string;

beforeAll(async () => {
  w = world();
  patientId = (await register(w)).id;
});

/** The facility's calendar date of an instant. */
const localDate = (at: Date) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
const dateAfter = (days: number) => localDate(new Date(clock.now().getTime() + days * 24 * HOUR));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stocked {
  stock: InventoryItem;
  med: Medication;
  lots: string[];
}

describe('the ledger under a random sequence of fills, dispenses, receipts, adjustments and expiries', () => {
  it(`keeps every lot equal to its ledger and Pharmacy's fills equal to Inventory's dispenses (${OPS} operations)`, async () => {
    console.log(`ledger property seed ${SEED} (LEDGER_PROPERTY_SEED to replay), ${OPS} operations`);
    const started = Date.now();
    const rnd = prng(SEED);
    const items: Stocked[] = [];
    for (let i = 0; i < 3; i += 1) {
      const lots = [
        { lotNumber: `I${i}-A`, expiry: dateAfter(0), quantity: 5 + rnd.int(10) },
        { lotNumber: `I${i}-B`, expiry: dateAfter(1 + rnd.int(3)), quantity: 5 + rnd.int(10) },
        { lotNumber: `I${i}-C`, expiry: dateAfter(10 + rnd.int(30)), quantity: 10 + rnd.int(20) },
      ];
      const stock = await postCreated<InventoryItem>(w.inventory, INVENTORY, w.tokens.pharmacist, {
        sku: `LEDGER-${unique()}`,
        name: 'Amoxicillin 500 mg capsules',
        category: 'antibiotics',
        unit: 'capsule',
        reorderThreshold: 5 + rnd.int(10),
        reorderQuantity: 20,
        lots,
      });
      const med = await addMedication(w, amoxicillin({ inventoryItemId: stock.id }));
      items.push({ stock, med, lots: lots.map((l) => l.lotNumber) });
    }

    /** event ids Inventory must have taken in (Pharmacy's, and the re-published ones under new ids) */
    const expected = new Set<string>();
    /** Pharmacy's dispense events already re-delivered */
    const redelivered = new Set<string>();
    const tally: Record<string, number> = {};
    const count = (what: string) => {
      tally[what] = (tally[what] ?? 0) + 1;
    };
    let receiptN = 0;

    /** Every dispense Pharmacy published, delivered again up to twice, and once under a new id. */
    async function redeliver() {
      const rows = await outboxRows(w.pharmacy.db, { type: 'medication.dispensed.v1' });
      for (const { envelope } of rows) {
        expected.add(envelope.id);
        if (redelivered.has(envelope.id)) continue;
        redelivered.add(envelope.id);
        const times = rnd.int(3);
        for (let k = 0; k < times; k += 1) await w.inventory.bus.publish([envelope]);
        if (rnd.int(2) === 0) {
          const again = { ...envelope, id: randomUUID() };
          expected.add(again.id);
          await w.inventory.bus.publish([again]);
          count('new-id redelivery');
        }
        count(`redelivered x${times}`);
      }
    }

    /** No fill pending in Pharmacy, and every dispense event taken in by Inventory. */
    async function settle() {
      await eventually(
        async () => {
          const { rows } = await w.pharmacy.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM fills WHERE state = 'pending'`,
          );
          return rows[0]?.n === 0;
        },
        'no pending fills',
        20_000,
      );
      for (const { envelope } of await outboxRows(w.pharmacy.db, { type: 'medication.dispensed.v1' }))
        expected.add(envelope.id);
      const ids = [...expected];
      await eventually(
        async () => {
          const { rows } = await w.inventory.db.query<{ n: number }>(
            'SELECT count(DISTINCT event_id)::int AS n FROM inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])',
            ['inventory', ids],
          );
          return rows[0]?.n === ids.length;
        },
        `Inventory taking in ${ids.length} dispense events`,
        20_000,
      );
    }

    const ops: Record<string, () => Promise<void>> = {
      async fill() {
        const s = rnd.pick(items);
        const rx = await prescribed(w, { patientId, items: [item(s.med.id, { quantity: 1 + rnd.int(8) })] });
        const res = await w.pharmacy.request<{ state: string }>('POST', `${PRESCRIPTIONS}/${rx.id}/fill`, {
          token: w.tokens.pharmacist,
        });
        expect([201, 202, 409], JSON.stringify(res.body)).toContain(res.status);
        count(`fill ${res.status} ${res.body.state ?? ''}`.trim());
      },
      async dispense() {
        const s = rnd.pick(items);
        const res = await w.pharmacy.request<{ state: string }>(
          'POST',
          `${MEDICATIONS}/${s.med.id}/dispense`,
          {
            token: w.tokens.pharmacist,
            body: { quantity: 1 + rnd.int(5), patientId, reason: 'ward round' },
          },
        );
        expect([201, 202, 409], JSON.stringify(res.body)).toContain(res.status);
        count(`dispense ${res.status} ${res.body.state ?? ''}`.trim());
      },
      async receipt() {
        const s = rnd.pick(items);
        const order = await w.inventory.request<PurchaseOrder>('POST', `${INVENTORY}/${s.stock.id}/reorder`, {
          token: w.tokens.admin,
          body: { quantity: 5 + rnd.int(20) },
        });
        expect(order.status, JSON.stringify(order.body)).toBe(202);
        receiptN += 1;
        const lotNumber = `R${receiptN}`;
        const res = await w.inventory.request('POST', `${ORDERS}/${order.body.id}/receive`, {
          token: w.tokens.admin,
          body: { lotNumber, expiry: dateAfter(1 + rnd.int(5)) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        s.lots.push(lotNumber);
        count('receipt');
      },
      async adjust() {
        const s = rnd.pick(items);
        const quantity = rnd.pick([-5, -3, -1, 1, 2, 4]);
        const res = await w.inventory.request('POST', `${INVENTORY}/${s.stock.id}/adjustments`, {
          token: w.tokens.admin,
          body: {
            lotNumber: rnd.pick(s.lots),
            quantity,
            reason: quantity < 0 ? rnd.pick(['damaged', 'count-correction']) : 'count-correction',
          },
        });
        // taking out more than is free is refused: both answers keep the books
        expect([201, 409], JSON.stringify(res.body)).toContain(res.status);
        count(`adjust ${res.status}`);
      },
      async redeliver() {
        await redeliver();
      },
      async time() {
        // a dispense is written at Inventory's clock: let every one in flight land before moving it
        await settle();
        clock.set(new Date(clock.now().getTime() + (6 + rnd.int(24)) * HOUR).toISOString());
        await sleep(300); // the expiry job runs every 100 ms
        count('time');
      },
    };
    const weights: [string, number][] = [
      ['fill', 8],
      ['dispense', 6],
      ['receipt', 3],
      ['adjust', 3],
      ['redeliver', 3],
      ['time', 3],
    ];
    const total = weights.reduce((sum, [, n]) => sum + n, 0);
    const choose = () => {
      let x = rnd.int(total);
      for (const [name, n] of weights) {
        if (x < n) return name;
        x -= n;
      }
      return 'fill';
    };
    for (let done = 0; done < OPS; done += 1) await (ops[choose()] as () => Promise<void>)();
    await settle();
    await redeliver();
    await settle();
    await sleep(300);

    const db = w.inventory.db;
    const today = localDate(clock.now());
    for (const s of items) {
      const what = (lot = '') => `item ${s.stock.sku} ${lot} (seed ${SEED})`;
      const { rows: lots } = await db.query<{
        lot_number: string;
        expiry: string;
        quantity: number;
        ledger: number;
      }>(
        `SELECT l.lot_number, to_char(l.expiry, 'YYYY-MM-DD') AS expiry, l.quantity,
                (SELECT coalesce(sum(e.quantity), 0)::int FROM ledger e
                  WHERE e.item_id = l.item_id AND e.lot_number = l.lot_number) AS ledger
           FROM lots l WHERE l.item_id = $1 ORDER BY l.lot_number`,
        [s.stock.id],
      );
      expect(lots.length, what()).toBeGreaterThan(0);
      for (const lot of lots) {
        expect(lot.quantity, what(lot.lot_number)).toBe(lot.ledger);
        expect(lot.quantity, what(lot.lot_number)).toBeGreaterThanOrEqual(0);
        // the expiry job wrote off what an expired lot held (nothing is reserved once settled)
        if (lot.expiry < today) expect(lot.quantity, what(`${lot.lot_number} expired ${lot.expiry}`)).toBe(0);
      }
      const api = await w.inventory.request<InventoryItem>('GET', `${INVENTORY}/${s.stock.id}`, {
        token: w.tokens.pharmacist,
      });
      expect(api.body.quantityOnHand, what()).toBe(lots.reduce((sum, l) => sum + l.quantity, 0));
      expect(api.body.reserved, what()).toBe(0);

      // Pharmacy's completed fills and ward dispenses of this item = Inventory's dispense entries
      const { rows: filled } = await w.pharmacy.db.query<{ n: number }>(
        `SELECT coalesce(sum(fl.quantity), 0)::int AS n FROM fill_lines fl JOIN fills f ON f.id = fl.fill_id
          WHERE f.state = 'completed' AND fl.item_id = $1`,
        [s.stock.id],
      );
      const { rows: dispensed } = await db.query<{ n: number }>(
        `SELECT coalesce(-sum(quantity), 0)::int AS n FROM ledger WHERE item_id = $1 AND reason = 'dispense'`,
        [s.stock.id],
      );
      expect(dispensed[0]?.n, what('dispensed')).toBe(filled[0]?.n);
    }

    // every consumed reservation was decremented once, by exactly its quantity
    const { rows: twice } = await db.query<{ id: string; quantity: number; dispensed: number }>(
      `SELECT r.id, r.quantity, (SELECT coalesce(-sum(e.quantity), 0)::int FROM ledger e
                                  WHERE e.reservation_id = r.id AND e.reason = 'dispense') AS dispensed
         FROM reservations r WHERE r.state = 'consumed'`,
    );
    for (const r of twice) expect(r.dispensed, `reservation ${r.id}`).toBe(r.quantity);

    // no lot was dispensed after its last usable day, in the facility's zone
    const { rows: late } = await db.query<{ lot_number: string; expiry: string; at: string }>(
      `SELECT e.lot_number, to_char(l.expiry, 'YYYY-MM-DD') AS expiry, e.at::text AS at
         FROM ledger e JOIN lots l ON l.item_id = e.item_id AND l.lot_number = e.lot_number
        WHERE e.reason = 'dispense' AND (e.at AT TIME ZONE $1)::date > l.expiry`,
      [ZONE],
    );
    expect(late, `expired lots dispensed (seed ${SEED})`).toEqual([]);

    const { rows: kinds } = await db.query<{ reason: string; n: number }>(
      'SELECT reason, count(*)::int AS n FROM ledger GROUP BY reason ORDER BY reason',
    );
    console.log(`operations: ${JSON.stringify(tally)}`);
    console.log(`ledger entries by reason: ${kinds.map((k) => `${k.reason} ${k.n}`).join(', ')}`);
    console.log(`seed ${SEED}, ${OPS} operations, ${Date.now() - started} ms`);
    if (OPS >= 40) expect(kinds.some((k) => k.reason === 'dispense')).toBe(true);
  }, 300_000);
});
