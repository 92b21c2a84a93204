import type { InventoryItem, Reservation } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  RESERVATIONS,
  createItem,
  fetchItem,
  lotBooks,
  newItem,
  reserve,
  reserved,
  settableClock,
  snapshot,
  until,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * Reservations, the stock step of the Pharmacy saga: lots picked when reserving (earliest-expiring
 * usable first, split across lots), expired lots never held, short stock refused naming what is
 * available, the same reference (or Idempotency-Key) answering the same reservation, confirm and
 * release, and the TTL job. The facility is in Berlin; the clock starts Wednesday 2027-03-10,
 * 12:00 UTC (13:00 local) and is moved by hand.
 */
const clock = settableClock('2027-03-10T12:00:00.000Z');

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
      FACILITY_TIMEZONE: 'Europe/Berlin',
      INVENTORY_RESERVATION_JOB_MS: '100',
      INVENTORY_EXPIRY_JOB_MS: '3600000',
    },
  },
);

/** Three lots: one expired yesterday, one expiring in April, one in June (listed out of order). */
const threeLots = () =>
  createItem(
    svc,
    t.pharmacist,
    newItem({
      reorderThreshold: 0,
      lots: [
        { lotNumber: 'JUN', expiry: '2027-06-30', quantity: 10 },
        { lotNumber: 'OLD', expiry: '2027-03-09', quantity: 50 },
        { lotNumber: 'APR', expiry: '2027-04-30', quantity: 4 },
      ],
    }),
  );

describe('POST /api/v1/inventory/reservations', () => {
  it('takes the earliest-expiring usable lot first, splits across the next, never the expired one', async () => {
    // created while OLD was still usable (2027-03-09 12:00 UTC), then the day passes
    clock.set('2027-03-09T12:00:00.000Z');
    const item = await threeLots();
    clock.set('2027-03-10T12:00:00.000Z');

    const res = await reserve(svc, t.pharmacy, {
      itemId: item.id,
      quantity: 6,
      reference: 'fill-split-1',
      ttlSec: 600,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('location')).toBe(`${RESERVATIONS}/${res.body.id}`);
    expect(res.body).toEqual({
      id: res.body.id,
      itemId: item.id,
      quantity: 6,
      reference: 'fill-split-1',
      state: 'held',
      lots: [
        { lotNumber: 'APR', expiry: '2027-04-30', quantity: 4 },
        { lotNumber: 'JUN', expiry: '2027-06-30', quantity: 2 },
      ],
      expiresAt: '2027-03-10T12:10:00.000Z',
      createdAt: '2027-03-10T12:00:00.000Z',
    });
    const after = await fetchItem(svc, t.nurse, item.id);
    expect(after).toMatchObject({ quantityOnHand: 64, reserved: 6, available: 8 });
    expect(after.lots).toEqual([
      { lotNumber: 'OLD', expiry: '2027-03-09', quantity: 50, reserved: 0, expired: true },
      { lotNumber: 'APR', expiry: '2027-04-30', quantity: 4, reserved: 4, expired: false },
      { lotNumber: 'JUN', expiry: '2027-06-30', quantity: 10, reserved: 2, expired: false },
    ]);
    // holding writes no ledger entry: quantities did not change
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'APR', quantity: 4, reserved: 4, ledger: 4 },
      { lotNumber: 'JUN', quantity: 10, reserved: 2, ledger: 10 },
      { lotNumber: 'OLD', quantity: 50, reserved: 0, ledger: 50 },
    ]);
  });

  it('short usable stock is 409 naming what is available (the expired lot does not count), and holds nothing', async () => {
    clock.set('2027-03-09T12:00:00.000Z');
    const item = await threeLots();
    clock.set('2027-03-10T12:00:00.000Z');
    const before = await snapshot(svc);
    const res = await reserve(svc, t.pharmacy, { itemId: item.id, quantity: 15 });
    const problem = expectProblem(res, 409);
    expect(problem).toMatchObject({
      code: 'insufficient_stock',
      itemId: item.id,
      requested: 15,
      available: 14,
    });
    expect(await snapshot(svc)).toEqual(before);
    // exactly what is available succeeds
    const all = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 14 });
    expect(all.lots.map((l) => [l.lotNumber, l.quantity])).toEqual([
      ['APR', 4],
      ['JUN', 10],
    ]);
  });

  it('a lot that stops being usable before the hold ends is not held', async () => {
    // 23:55 in Berlin (UTC+1) on 2027-03-10: a 10-minute hold ends on the 11th, after TODAY's last day
    clock.set('2027-03-10T22:55:00.000Z');
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({
        reorderThreshold: 0,
        lots: [
          { lotNumber: 'TODAY', expiry: '2027-03-10', quantity: 5 },
          { lotNumber: 'LATER', expiry: '2027-08-01', quantity: 5 },
        ],
      }),
    );
    const r = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 3, ttlSec: 600 });
    expect(r.lots.map((l) => l.lotNumber)).toEqual(['LATER']);
    // a 1-minute hold still ends on the 10th: TODAY is held
    const short = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 3, ttlSec: 60 });
    expect(short.lots.map((l) => l.lotNumber)).toEqual(['TODAY']);
    clock.set('2027-03-10T12:00:00.000Z');
  });

  it('the same reference answers the same reservation (200), and 409 when it asks for other stock', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'R1', expiry: '2027-12-31', quantity: 20 }] }),
    );
    const first = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 3, reference: 'fill-ref-1' });
    const again = await reserve(svc, t.pharmacy, { itemId: item.id, quantity: 3, reference: 'fill-ref-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first);
    expect((await fetchItem(svc, t.nurse, item.id)).reserved).toBe(3);

    const before = await snapshot(svc);
    const other = await reserve(svc, t.pharmacy, { itemId: item.id, quantity: 4, reference: 'fill-ref-1' });
    expect(expectProblem(other, 409)).toMatchObject({ code: 'reference_in_use', reservationId: first.id });
    expect(await snapshot(svc)).toEqual(before);
  });

  it('parallel requests with one reference make one reservation', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'P1', expiry: '2027-12-31', quantity: 50 }] }),
    );
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        reserve(svc, t.pharmacy, { itemId: item.id, quantity: 2, reference: 'fill-par-1' }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await fetchItem(svc, t.nurse, item.id)).reserved).toBe(2);
  });

  it('an Idempotency-Key replays the first answer', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'I1', expiry: '2027-12-31', quantity: 20 }] }),
    );
    const body = { itemId: item.id, quantity: 5, reference: 'fill-idem-1' };
    const headers = { 'idempotency-key': 'double-click-1' };
    const first = await svc.request<Reservation>('POST', RESERVATIONS, { token: t.pharmacy, body, headers });
    const second = await svc.request<Reservation>('POST', RESERVATIONS, { token: t.pharmacy, body, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await fetchItem(svc, t.nurse, item.id)).reserved).toBe(5);
  });

  it('bad input is a 400 naming each field, and an unknown item a 400 naming /body/itemId', async () => {
    const before = await snapshot(svc);
    const res = await svc.request('POST', RESERVATIONS, {
      token: t.pharmacy,
      body: { itemId: 'nope', quantity: 0, reference: '' },
    });
    expect(
      expectValidationErrors(res)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['/body/itemId', '/body/quantity', '/body/reference'].sort());
    const unknown = await reserve(svc, t.pharmacy, {
      itemId: '0190f3a0-0000-7000-8000-0000000000ff',
      quantity: 1,
    });
    expect(expectValidationErrors(unknown)).toEqual([
      { path: '/body/itemId', message: 'no inventory item has this id' },
    ]);
    expect(await snapshot(svc)).toEqual(before);
  });
});

describe('confirm, release and the TTL', () => {
  const item = async (quantity = 10): Promise<InventoryItem> =>
    createItem(
      svc,
      t.pharmacist,
      newItem({ reorderThreshold: 0, lots: [{ lotNumber: 'C1', expiry: '2027-12-31', quantity }] }),
    );
  const post = (id: string, step: 'confirm' | 'release') =>
    svc.request<Reservation & { code?: string }>('POST', `${RESERVATIONS}/${id}/${step}`, {
      token: t.pharmacy,
    });

  it('release lets the stock go, once; releasing again answers the released reservation', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const it1 = await item();
    const r = await reserved(svc, t.pharmacy, { itemId: it1.id, quantity: 4 });
    clock.set('2027-03-10T12:01:00.000Z');
    const res = await post(r.id, 'release');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      ...r,
      state: 'released',
      releasedAt: '2027-03-10T12:01:00.000Z',
      releaseReason: 'released',
    });
    expect(await fetchItem(svc, t.nurse, it1.id)).toMatchObject({ reserved: 0, available: 10 });
    const again = await post(r.id, 'release');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await fetchItem(svc, t.nurse, it1.id)).toMatchObject({ reserved: 0, available: 10 });
    // a released reservation cannot be confirmed
    expect(expectProblem(await post(r.id, 'confirm'), 409).code).toBe('reservation_released');
    clock.set('2027-03-10T12:00:00.000Z');
  });

  it('the TTL job releases a held reservation past its expiry, and not a confirmed one', async () => {
    clock.set('2027-03-10T12:00:00.000Z');
    const it1 = await item();
    const held = await reserved(svc, t.pharmacy, { itemId: it1.id, quantity: 3, ttlSec: 30 });
    const confirmed = await reserved(svc, t.pharmacy, { itemId: it1.id, quantity: 2, ttlSec: 30 });
    const ok = await post(confirmed.id, 'confirm');
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ state: 'confirmed', confirmedAt: '2027-03-10T12:00:00.000Z' });
    expect((await post(confirmed.id, 'confirm')).body).toEqual(ok.body);

    // 29 s later: nothing due
    clock.set('2027-03-10T12:00:29.000Z');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(
      (await svc.request<Reservation>('GET', `${RESERVATIONS}/${held.id}`, { token: t.nurse })).body.state,
    ).toBe('held');
    clock.set('2027-03-10T12:00:30.000Z');
    await until('the TTL job released the hold', async () => {
      const r = await svc.request<Reservation>('GET', `${RESERVATIONS}/${held.id}`, { token: t.nurse });
      return r.body.state === 'released';
    });
    const released = await svc.request<Reservation>('GET', `${RESERVATIONS}/${held.id}`, { token: t.nurse });
    expect(released.body).toMatchObject({
      state: 'released',
      releaseReason: 'expired',
      releasedAt: '2027-03-10T12:00:30.000Z',
    });
    const stillConfirmed = await svc.request<Reservation>('GET', `${RESERVATIONS}/${confirmed.id}`, {
      token: t.nurse,
    });
    expect(stillConfirmed.body.state).toBe('confirmed');
    expect(await fetchItem(svc, t.nurse, it1.id)).toMatchObject({
      quantityOnHand: 10,
      reserved: 2,
      available: 8,
    });
    clock.set('2027-03-10T12:00:00.000Z');
  });

  it('404 for an unknown reservation on every step', async () => {
    const id = '0190f3a0-0000-7000-8000-0000000000ff';
    expect(expectProblem(await post(id, 'confirm'), 404).code).toBe('reservation_not_found');
    expect(expectProblem(await post(id, 'release'), 404).code).toBe('reservation_not_found');
    const get = await svc.request('GET', `${RESERVATIONS}/${id}`, { token: t.nurse });
    expect(expectProblem(get, 404).code).toBe('reservation_not_found');
  });
});
