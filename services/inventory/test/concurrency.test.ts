import type { RunningService } from '@hms/testkit';
import { describe, expect, it } from 'vitest';
import {
  createItem,
  fetchItem,
  lotBooks,
  newItem,
  reserve,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * Stock never goes negative under concurrency, on real PostgreSQL: parallel reservations
 * competing for the last units, and the database's own CHECKs refusing what bypasses the
 * service.
 */
const NOW = new Date('2027-03-10T12:00:00.000Z');

let svc: RunningService;
let t: Tokens;

useInventoryService(
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  { clock: { now: () => NOW }, env: { FACILITY_TIMEZONE: 'Europe/Berlin' } },
);

/** The last 5 units, in two lots (2 expiring in April, 3 in June). */
const lastFive = () =>
  createItem(
    svc,
    t.pharmacist,
    newItem({
      reorderThreshold: 0,
      lots: [
        { lotNumber: 'APR', expiry: '2027-04-30', quantity: 2 },
        { lotNumber: 'JUN', expiry: '2027-06-30', quantity: 3 },
      ],
    }),
  );

describe('parallel reservations for the last units', () => {
  it('20 parallel reservations of 1 unit for the last 5: exactly 5 succeed, the rest are 409', async () => {
    const item = await lastFive();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => reserve(svc, t.pharmacy, { itemId: item.id, quantity: 1 })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    for (const a of answers.filter((x) => x.status === 409))
      expect(a.body).toMatchObject({ code: 'insufficient_stock', requested: 1, available: 0 });
    // the winners hold both lots' every unit, the earlier-expiring lot's first
    const held = answers
      .filter((a) => a.status === 201)
      .flatMap((a) => a.body.lots.map((l) => `${l.lotNumber}:${l.quantity}`))
      .sort();
    expect(held).toEqual(['APR:1', 'APR:1', 'JUN:1', 'JUN:1', 'JUN:1']);
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({
      quantityOnHand: 5,
      reserved: 5,
      available: 0,
    });
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'APR', quantity: 2, reserved: 2, ledger: 2 },
      { lotNumber: 'JUN', quantity: 3, reserved: 3, ledger: 3 },
    ]);
  });

  it('20 parallel reservations of 1 to 3 units: exactly 5 units are held, never more', async () => {
    const item = await lastFive();
    const quantities = Array.from({ length: 20 }, (_, i) => (i % 3) + 1);
    const answers = await Promise.all(
      quantities.map((quantity) => reserve(svc, t.pharmacy, { itemId: item.id, quantity })),
    );
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    const won = answers.filter((a) => a.status === 201).reduce((sum, a) => sum + a.body.quantity, 0);
    const after = await fetchItem(svc, t.nurse, item.id);
    // seven requests ask for 1 unit: while any unit was left, each of them succeeded, so none is left
    expect(won).toBe(5);
    expect(after).toMatchObject({ quantityOnHand: 5, reserved: 5, available: 0 });
    // every refusal was right when it was made: it asked for more than was left
    for (const a of answers.filter((x) => x.status === 409))
      expect(a.body.available).toBeLessThan(a.body.requested as number);
    const books = await lotBooks(svc, item.id);
    for (const lot of books) {
      expect(lot.reserved).toBeGreaterThanOrEqual(0);
      expect(lot.reserved).toBeLessThanOrEqual(lot.quantity);
    }
  });
});

describe("the database's own guard", () => {
  it('refuses a negative lot and a lot reserved beyond what it holds, whatever writes it', async () => {
    const item = await lastFive();
    const tryWrite = (sql: string) =>
      svc.db.query(sql, [item.id]).then(
        () => 'written',
        (err: unknown) => (err as { code?: string }).code,
      );
    expect(await tryWrite(`UPDATE lots SET quantity = -1 WHERE item_id = $1 AND lot_number = 'APR'`)).toBe(
      '23514',
    );
    expect(await tryWrite(`UPDATE lots SET reserved = 3 WHERE item_id = $1 AND lot_number = 'APR'`)).toBe(
      '23514',
    );
    expect(await tryWrite(`UPDATE lots SET reserved = -1 WHERE item_id = $1 AND lot_number = 'APR'`)).toBe(
      '23514',
    );
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'APR', quantity: 2, reserved: 0, ledger: 2 },
      { lotNumber: 'JUN', quantity: 3, reserved: 0, ledger: 3 },
    ]);
  });
});
