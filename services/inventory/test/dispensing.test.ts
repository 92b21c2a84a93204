import type { EventEnvelope, LedgerEntry, Reservation } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import type { Page, RunningService } from '@hms/testkit';
import { describe, expect, it } from 'vitest';
import {
  INVENTORY,
  RESERVATIONS,
  consumed,
  createItem,
  dispensedEnvelope,
  fetchItem,
  lotBooks,
  newItem,
  reserved,
  until,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * `medication.dispensed.v1` on real RabbitMQ (TEST_AMQP_URL), published on the bus Inventory
 * consumes as the Pharmacy's outbox relay would: the reservation it names becomes a decrement of
 * exactly its lots, once, however often the event comes and under whatever event id; an event
 * that breaks its schema or disagrees with the reservation lands in Inventory's dead-letter
 * queue with its reason, changes nothing, and later events still flow.
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

/** An item with lots A (April, 3 units) and B (June, 10 units), and a reservation of 5: A 3 + B 2. */
async function heldAcrossTwoLots() {
  const item = await createItem(
    svc,
    t.pharmacist,
    newItem({
      reorderThreshold: 0,
      lots: [
        { lotNumber: 'B', expiry: '2027-06-30', quantity: 10 },
        { lotNumber: 'A', expiry: '2027-04-30', quantity: 3 },
      ],
    }),
  );
  const r = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 5 });
  expect(r.lots).toEqual([
    { lotNumber: 'A', expiry: '2027-04-30', quantity: 3 },
    { lotNumber: 'B', expiry: '2027-06-30', quantity: 2 },
  ]);
  return { item, r };
}

const facts = (r: Reservation, more: { dispenseId?: string } = {}) => ({
  reservationId: r.id,
  itemId: r.itemId,
  quantity: r.quantity,
  lots: r.lots.map((l) => ({ lotNumber: l.lotNumber, quantity: l.quantity })),
  ...more,
});

const reservationOf = async (id: string) =>
  (await svc.request<Reservation>('GET', `${RESERVATIONS}/${id}`, { token: t.nurse })).body;

interface DeadLetterItem {
  id: string;
  type: string;
  subject: string;
  reason: string;
  attempts: number;
}
const deadLetters = async () => {
  const res = await svc.manage<{ items: DeadLetterItem[] }>('GET', '/admin/events/inventory/dead-letters', {
    token: t.admin,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
};
async function deadLettered(id: string): Promise<DeadLetterItem> {
  await until(`event ${id} dead-lettered`, async () => (await deadLetters()).some((d) => d.id === id));
  return (await deadLetters()).find((d) => d.id === id) as DeadLetterItem;
}

describe('medication.dispensed.v1', () => {
  it('turns the reservation into a decrement of exactly its lots, once, though delivered three times', async () => {
    const { item, r } = await heldAcrossTwoLots();
    const dispenseId = uuidv7();
    const envelope = dispensedEnvelope(facts(r, { dispenseId }));
    await svc.bus.publish([envelope]);
    await consumed(svc, [envelope.id]);
    await svc.bus.publish([envelope]);
    await svc.bus.publish([envelope]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // a later event of the same item behind the redeliveries: when it is applied, they were too
    const marker = await reserved(svc, t.pharmacy, { itemId: item.id, quantity: 1 });
    const after = dispensedEnvelope(facts(marker));
    await svc.bus.publish([after]);
    await consumed(svc, [after.id]);

    expect(await reservationOf(r.id)).toEqual({
      ...r,
      state: 'consumed',
      consumedAt: '2027-03-10T12:00:00.000Z',
      dispenseId,
    });
    // A 3 − 3 = 0, B 10 − 2 − 1 (the marker) = 7
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({
      quantityOnHand: 7,
      reserved: 0,
      available: 7,
      lots: [{ lotNumber: 'B', expiry: '2027-06-30', quantity: 7, reserved: 0, expired: false }],
    });
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'A', quantity: 0, reserved: 0, ledger: 0 },
      { lotNumber: 'B', quantity: 7, reserved: 0, ledger: 7 },
    ]);
    const ledger = await svc.request<Page<LedgerEntry>>('GET', `${INVENTORY}/${item.id}/adjustments`, {
      token: t.nurse,
    });
    const dispenses = ledger.body.items.filter((e) => e.reason === 'dispense' && e.reservationId === r.id);
    expect(
      dispenses.map((e) => [e.lotNumber, e.quantity, e.lotQuantityAfter, e.dispenseId, e.actor]),
    ).toEqual([
      ['A', -3, 0, dispenseId, 'svc:pharmacy'],
      ['B', -2, 8, dispenseId, 'svc:pharmacy'],
    ]);
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM inbox WHERE consumer = $1 AND event_id = $2',
      ['inventory', envelope.id],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('a reservation consumed once is never consumed again, even by another event id', async () => {
    const { item, r } = await heldAcrossTwoLots();
    const first = dispensedEnvelope(facts(r));
    const second = dispensedEnvelope(facts(r));
    expect(second.id).not.toBe(first.id);
    await svc.bus.publish([first]);
    await consumed(svc, [first.id]);
    await svc.bus.publish([second]);
    await consumed(svc, [second.id]);
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({ quantityOnHand: 8, reserved: 0 });
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'A', quantity: 0, reserved: 0, ledger: 0 },
      { lotNumber: 'B', quantity: 8, reserved: 0, ledger: 8 },
    ]);
  });

  it('a poison event (breaks its schema) lands in the DLQ with its reason; later events still flow', async () => {
    const { item, r } = await heldAcrossTwoLots();
    const good = dispensedEnvelope(facts(r));
    const poison = {
      ...good,
      id: uuidv7(),
      data: { ...(good.data as Record<string, unknown>), reservationId: 'not-a-uuid', quantity: -1 },
    } as EventEnvelope;
    await svc.bus.publish([poison]);
    const dead = await deadLettered(poison.id);
    expect(dead).toMatchObject({ type: 'medication.dispensed.v1', attempts: 1 });
    expect(dead.reason).toMatch(
      /^PermanentEventError: event medication.dispensed.v1 does not match its schema/,
    );
    expect(dead.reason).toContain('/data/reservationId');
    // nothing changed, and the next event is applied
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({ quantityOnHand: 13, reserved: 5 });
    await svc.bus.publish([good]);
    await consumed(svc, [good.id]);
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({ quantityOnHand: 8, reserved: 0 });
  });

  it('an event naming other lots than its reservation is dead-lettered and changes nothing', async () => {
    const { item, r } = await heldAcrossTwoLots();
    const wrong = dispensedEnvelope({ ...facts(r), lots: [{ lotNumber: 'B', quantity: 5 }] });
    await svc.bus.publish([wrong]);
    const dead = await deadLettered(wrong.id);
    expect(dead.reason).toBe(
      `PermanentEventError: dispense ${(wrong.data as { dispenseId: string }).dispenseId} names other lots or quantity than reservation ${r.id}`,
    );
    expect(await reservationOf(r.id)).toEqual(r);
    expect(await lotBooks(svc, item.id)).toEqual([
      { lotNumber: 'A', quantity: 3, reserved: 3, ledger: 3 },
      { lotNumber: 'B', quantity: 10, reserved: 2, ledger: 10 },
    ]);
  });

  it('an event for a released reservation is dead-lettered: that stock is no longer held', async () => {
    const { item, r } = await heldAcrossTwoLots();
    const released = await svc.request('POST', `${RESERVATIONS}/${r.id}/release`, { token: t.pharmacy });
    expect(released.status).toBe(200);
    const late = dispensedEnvelope(facts(r));
    await svc.bus.publish([late]);
    const dead = await deadLettered(late.id);
    expect(dead.reason).toBe(
      `PermanentEventError: reservation ${r.id} was released (released) before dispense ${(late.data as { dispenseId: string }).dispenseId}`,
    );
    expect(await fetchItem(svc, t.nurse, item.id)).toMatchObject({
      quantityOnHand: 13,
      reserved: 0,
      available: 13,
    });
  });

  it('an event for an unknown reservation is dead-lettered', async () => {
    const { item } = await heldAcrossTwoLots();
    const unknownId = uuidv7();
    const stray = dispensedEnvelope({
      reservationId: unknownId,
      itemId: item.id,
      quantity: 1,
      lots: [{ lotNumber: 'A', quantity: 1 }],
    });
    await svc.bus.publish([stray]);
    expect((await deadLettered(stray.id)).reason).toBe(
      `PermanentEventError: reservation ${unknownId} does not exist`,
    );
  });

  it('a consumed reservation cannot be released (409): the stock left', async () => {
    const { r } = await heldAcrossTwoLots();
    const e = dispensedEnvelope(facts(r));
    await svc.bus.publish([e]);
    await consumed(svc, [e.id]);
    const res = await svc.request<{ code: string; dispenseId: string }>(
      'POST',
      `${RESERVATIONS}/${r.id}/release`,
      {
        token: t.pharmacy,
      },
    );
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('reservation_consumed');
    expect(res.body.dispenseId).toBe((e.data as { dispenseId: string }).dispenseId);
  });
});
