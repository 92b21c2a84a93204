import type { InventoryItem, PurchaseOrder, Reservation } from '@hms/contracts';
import { prng, type RunningService } from '@hms/testkit';
import { describe, expect, it } from 'vitest';
import { localDate } from '../src/domain/stock.js';
import {
  INVENTORY,
  ORDERS,
  RESERVATIONS,
  consumed,
  createItem,
  dispensedEnvelope,
  newItem,
  reserve,
  settableClock,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * A ledger property test: a seeded random sequence of reservations, confirmed dispenses (each
 * `medication.dispensed.v1` delivered one to three times), releases, receipts of reorders,
 * adjustments and days passing (the TTL and expiry jobs running on the kit scheduler every 100
 * ms), a few at a time in parallel. Afterwards, for every item: each lot's quantity equals what
 * its ledger entries add up to, on hand equals the sum of its lots, no lot is negative or reserved
 * beyond what it holds, what lots hold reserved is what open reservations hold, each consumed
 * reservation was decremented exactly once, no dispensed lot was past its last usable day when
 * dispensed, and no expired lot keeps unreserved stock once the expiry job has run.
 *
 * `INVENTORY_PROPERTY_OPS` sets the number of operations (150 by default; `npm run
 * test:inventory-properties` runs 2000); `INVENTORY_PROPERTY_SEED` replays a run (the seed is
 * printed). A seed fixes every random choice; which of two racing requests wins is timing.
 */
const OPS = Number(process.env.INVENTORY_PROPERTY_OPS ?? 150);
const SEED = Number(process.env.INVENTORY_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const WIDTH = 4;
const ZONE = 'Europe/Berlin';
const DAY = 86_400_000;
const clock = settableClock('2027-03-10T08:00:00.000Z');

let svc: RunningService;
let t: Tokens;

useInventoryService(
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  {
    clock,
    env: {
      FACILITY_TIMEZONE: ZONE,
      INVENTORY_RESERVATION_JOB_MS: '100',
      INVENTORY_EXPIRY_JOB_MS: '100',
    },
  },
);

const dateAfter = (days: number) => localDate(new Date(clock.now().getTime() + days * DAY), ZONE);

describe('the ledger under a random sequence of operations', () => {
  it(`keeps every lot equal to its ledger (${OPS} operations)`, async () => {
    console.log(`inventory property seed ${SEED} (INVENTORY_PROPERTY_SEED to replay)`);
    const rnd = prng(SEED);
    const items: InventoryItem[] = [];
    for (let i = 0; i < 3; i += 1)
      items.push(
        await createItem(
          svc,
          t.pharmacist,
          newItem({
            reorderThreshold: 5 + rnd.int(10),
            lots: [
              { lotNumber: `I${i}-A`, expiry: dateAfter(0), quantity: 5 + rnd.int(10) },
              { lotNumber: `I${i}-B`, expiry: dateAfter(1 + rnd.int(3)), quantity: 5 + rnd.int(10) },
              { lotNumber: `I${i}-C`, expiry: dateAfter(10 + rnd.int(30)), quantity: 10 + rnd.int(20) },
            ],
          }),
        ),
      );
    const open: Reservation[] = [];
    const published: string[] = [];
    /** dispenseId → the instant it was dispensed (the event's dispensedAt) */
    const dispensedAt = new Map<string, string>();
    let receiptN = 0;

    const ops: Record<string, () => Promise<void>> = {
      async reserve() {
        const item = rnd.pick(items);
        const res = await reserve(svc, t.pharmacy, {
          itemId: item.id,
          quantity: 1 + rnd.int(6),
          ttlSec: rnd.pick([30, 600, 3600, 6 * 3600]),
        });
        expect([201, 409], JSON.stringify(res.body)).toContain(res.status);
        if (res.status === 201) open.push(res.body);
      },
      async dispense() {
        const r = open.splice(rnd.int(open.length), 1)[0];
        if (!r) return;
        // the saga: confirm, then publish the dispense (a hold that timed out is not dispensed); the
        // time is read first, as the clock only moves forward: the dispense is no later than the hold's end
        const at = clock.now().toISOString();
        const confirmed = await svc.request<Reservation>('POST', `${RESERVATIONS}/${r.id}/confirm`, {
          token: t.pharmacy,
        });
        if (confirmed.status !== 200) return;
        const envelope = dispensedEnvelope(
          {
            reservationId: r.id,
            itemId: r.itemId,
            quantity: r.quantity,
            lots: r.lots.map((l) => ({ lotNumber: l.lotNumber, quantity: l.quantity })),
          },
          at,
        );
        dispensedAt.set((envelope.data as { dispenseId: string }).dispenseId, at);
        const times = 1 + rnd.int(3);
        for (let k = 0; k < times; k += 1) await svc.bus.publish([envelope]);
        published.push(envelope.id);
      },
      async release() {
        const r = open.splice(rnd.int(open.length), 1)[0];
        if (!r) return;
        const res = await svc.request('POST', `${RESERVATIONS}/${r.id}/release`, { token: t.pharmacy });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      },
      async receipt() {
        const item = rnd.pick(items);
        const order = await svc.request<PurchaseOrder>('POST', `${INVENTORY}/${item.id}/reorder`, {
          token: t.pharmacist,
          body: { quantity: 5 + rnd.int(20) },
        });
        expect(order.status).toBe(202);
        receiptN += 1;
        const res = await svc.request('POST', `${ORDERS}/${order.body.id}/receive`, {
          token: t.pharmacist,
          body: { lotNumber: `R${receiptN}`, expiry: dateAfter(1 + rnd.int(20)) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      },
      async adjust() {
        const item = rnd.pick(items);
        const lot = `I${items.indexOf(item)}-${rnd.pick(['A', 'B', 'C'])}`;
        const quantity = rnd.pick([-5, -3, -1, 1, 2, 4]);
        const res = await svc.request('POST', `${INVENTORY}/${item.id}/adjustments`, {
          token: t.pharmacist,
          body: { lotNumber: lot, quantity, reason: 'count-correction' },
        });
        // taking out more than is free is refused: both answers keep the books
        expect([201, 409], JSON.stringify(res.body)).toContain(res.status);
      },
      async time() {
        clock.set(new Date(clock.now().getTime() + (1 + rnd.int(12)) * 3_600_000).toISOString());
      },
    };
    const weights: [string, number][] = [
      ['reserve', 8],
      ['dispense', 5],
      ['release', 2],
      ['receipt', 2],
      ['adjust', 3],
      ['time', 2],
    ];
    const total = weights.reduce((s, [, w]) => s + w, 0);
    const choose = () => {
      let x = rnd.int(total);
      for (const [name, w] of weights) {
        if (x < w) return name;
        x -= w;
      }
      return 'reserve';
    };

    for (let done = 0; done < OPS; done += WIDTH) {
      const batch = Array.from(
        { length: Math.min(WIDTH, OPS - done) },
        () => ops[choose()] as () => Promise<void>,
      );
      await Promise.all(batch.map((op) => op()));
    }
    await consumed(svc, published);
    // the jobs run every 100 ms: give them a round at the final time
    await new Promise((resolve) => setTimeout(resolve, 600));

    const today = localDate(clock.now(), ZONE);
    for (const item of items) {
      const { rows: lots } = await svc.db.query<{
        lot_number: string;
        expiry: string;
        quantity: number;
        reserved: number;
        ledger: number;
        held: number;
      }>(
        `SELECT l.lot_number, to_char(l.expiry, 'YYYY-MM-DD') AS expiry, l.quantity, l.reserved,
                (SELECT coalesce(sum(e.quantity), 0)::int FROM ledger e
                  WHERE e.item_id = l.item_id AND e.lot_number = l.lot_number) AS ledger,
                (SELECT coalesce(sum(rl.quantity), 0)::int FROM reservation_lots rl
                   JOIN reservations r ON r.id = rl.reservation_id
                  WHERE rl.item_id = l.item_id AND rl.lot_number = l.lot_number
                    AND r.state IN ('held', 'confirmed')) AS held
           FROM lots l WHERE l.item_id = $1 ORDER BY l.lot_number`,
        [item.id],
      );
      for (const lot of lots) {
        const what = `item ${item.sku} lot ${lot.lot_number} (seed ${SEED})`;
        expect(lot.quantity, what).toBe(lot.ledger);
        expect(lot.quantity, what).toBeGreaterThanOrEqual(0);
        expect(lot.reserved, what).toBeGreaterThanOrEqual(0);
        expect(lot.reserved, what).toBeLessThanOrEqual(lot.quantity);
        expect(lot.reserved, what).toBe(lot.held);
        // expired: only what reservations still hold is left
        if (lot.expiry < today) expect(lot.quantity, what).toBe(lot.reserved);
      }
      const api = await svc.request<InventoryItem>('GET', `${INVENTORY}/${item.id}`, { token: t.nurse });
      expect(api.body.quantityOnHand).toBe(lots.reduce((s, l) => s + l.quantity, 0));
      expect(api.body.reserved).toBe(lots.reduce((s, l) => s + l.reserved, 0));
    }

    // each consumed reservation: one dispense entry per lot it held, adding up to its quantity
    const { rows: consumedOnes } = await svc.db.query<{
      id: string;
      quantity: number;
      dispensed: number;
      entries: number;
      lots: number;
    }>(
      `SELECT r.id, r.quantity,
              (SELECT coalesce(-sum(e.quantity), 0)::int FROM ledger e WHERE e.reservation_id = r.id AND e.reason = 'dispense') AS dispensed,
              (SELECT count(*)::int FROM ledger e WHERE e.reservation_id = r.id AND e.reason = 'dispense') AS entries,
              (SELECT count(*)::int FROM reservation_lots rl WHERE rl.reservation_id = r.id) AS lots
         FROM reservations r WHERE r.state = 'consumed'`,
    );
    expect(consumedOnes.length).toBe(dispensedAt.size);
    const { rows: kinds } = await svc.db.query<{ reason: string; n: number }>(
      'SELECT reason, count(*)::int AS n FROM ledger GROUP BY reason ORDER BY reason',
    );
    console.log(`ledger entries by reason: ${kinds.map((k) => `${k.reason} ${k.n}`).join(', ')}`);
    if (OPS >= 100) expect(dispensedAt.size, 'the run dispensed something').toBeGreaterThan(0);
    for (const r of consumedOnes) {
      expect(r.dispensed, `reservation ${r.id}`).toBe(r.quantity);
      expect(r.entries, `reservation ${r.id}`).toBe(r.lots);
    }
    const { rows: noConsume } = await svc.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ledger e JOIN reservations r ON r.id = e.reservation_id WHERE r.state <> 'consumed'`,
    );
    expect(noConsume[0]?.n).toBe(0);

    // no lot was dispensed after its last usable day (in the facility's zone, on the day dispensed)
    const { rows: dispenses } = await svc.db.query<{ dispense_id: string; expiry: string }>(
      `SELECT e.dispense_id, to_char(l.expiry, 'YYYY-MM-DD') AS expiry
         FROM ledger e JOIN lots l ON l.item_id = e.item_id AND l.lot_number = e.lot_number
        WHERE e.reason = 'dispense'`,
    );
    for (const d of dispenses) {
      const at = dispensedAt.get(d.dispense_id) as string;
      expect(
        d.expiry >= localDate(new Date(at), ZONE),
        `dispense ${d.dispense_id} of a lot expiring ${d.expiry} at ${at}`,
      ).toBe(true);
    }
  }, 600_000);
});
