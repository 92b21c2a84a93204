import type { ExpiringLot, InventoryItem, LedgerEntry } from '@hms/contracts';
import type { Page, RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  INVENTORY,
  createItem,
  eventTypesOf,
  fetchItem,
  newItem,
  reserved,
  snapshot,
  useInventoryService,
  type Tokens,
} from './helpers.js';

/**
 * Items through the HTTP API: create with initial lots, read, list and page, replace with
 * If-Match, the lots expiring before a date, and bad input answered as problems that change
 * nothing. The clock is fixed: Wednesday 2027-03-10, 12:00 UTC (13:00 in Berlin, the facility's
 * zone); every expected figure is written by hand.
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

describe('POST /api/v1/inventory', () => {
  it('adds an item with its initial lots, each a receipt in the ledger', async () => {
    const input = newItem({
      lots: [
        { lotNumber: 'B-2', expiry: '2027-09-30', quantity: 40 },
        { lotNumber: 'A-1', expiry: '2027-06-30', quantity: 25 },
      ],
    });
    const res = await svc.request<InventoryItem>('POST', INVENTORY, { token: t.pharmacist, body: input });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('location')).toBe(`${INVENTORY}/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toEqual({
      id: res.body.id,
      sku: input.sku,
      name: 'Amoxicillin 500 mg capsules',
      category: input.category,
      unit: 'capsule',
      reorderThreshold: 10,
      reorderQuantity: 100,
      supplier: 'Acme Pharma',
      quantityOnHand: 65,
      reserved: 0,
      available: 65,
      lastRestockAt: '2027-03-10T12:00:00.000Z',
      lots: [
        { lotNumber: 'A-1', expiry: '2027-06-30', quantity: 25, reserved: 0, expired: false },
        { lotNumber: 'B-2', expiry: '2027-09-30', quantity: 40, reserved: 0, expired: false },
      ],
      version: 1,
      createdAt: '2027-03-10T12:00:00.000Z',
      updatedAt: '2027-03-10T12:00:00.000Z',
    });
    expect(await fetchItem(svc, t.nurse, res.body.id)).toEqual(res.body);

    const ledger = await svc.request<Page<LedgerEntry>>('GET', `${INVENTORY}/${res.body.id}/adjustments`, {
      token: t.nurse,
    });
    expect(ledger.status).toBe(200);
    expect(ledger.body.items.map((e) => [e.lotNumber, e.quantity, e.lotQuantityAfter, e.reason])).toEqual([
      ['B-2', 40, 40, 'receipt'],
      ['A-1', 25, 25, 'receipt'],
    ]);
    expect(ledger.body.nextCursor).toBeNull();
  });

  it('an item without lots has no stock, and is low at once when its threshold is above 0', async () => {
    const item = await createItem(svc, t.pharmacist, newItem({ supplier: undefined }));
    expect(item).toMatchObject({ quantityOnHand: 0, reserved: 0, available: 0, lots: [] });
    expect(item).not.toHaveProperty('supplier');
    expect(item).not.toHaveProperty('lastRestockAt');
    expect(await eventTypesOf(svc, item.id)).toEqual(['inventory.stock-low.v1']);
  });

  it('refuses bad input with a problem naming each bad field, and writes nothing', async () => {
    const before = await snapshot(svc);
    const res = await svc.request('POST', INVENTORY, {
      token: t.pharmacist,
      body: newItem({
        name: '   ',
        unit: ' ',
        lots: [
          { lotNumber: 'L1', expiry: '2027-03-09', quantity: 5 },
          { lotNumber: 'L2', expiry: '2027-03-10', quantity: 5 },
          { lotNumber: 'L1', expiry: '2027-05-01', quantity: 5 },
        ],
      }),
    });
    expect(expectValidationErrors(res)).toEqual(
      expect.arrayContaining([
        { path: '/body/name', message: 'must not be blank' },
        { path: '/body/unit', message: 'must not be blank' },
        { path: '/body/lots/0/expiry', message: 'is in the past (today is 2027-03-10)' },
        { path: '/body/lots/2/lotNumber', message: 'is given more than once' },
      ]),
    );
    expect(expectValidationErrors(res)).toHaveLength(4);

    // what the schema refuses: a quantity of 0, a negative threshold, an unknown field
    for (const body of [
      newItem({ lots: [{ lotNumber: 'L1', expiry: '2027-05-01', quantity: 0 }] }),
      newItem({ reorderThreshold: -1 }),
      newItem({ reorderQuantity: 0 }),
      { ...newItem(), quantityOnHand: 5 },
      newItem({ sku: 'has space' }),
      newItem({ lots: [{ lotNumber: 'L1', expiry: '2027-02-30', quantity: 3 }] }),
    ]) {
      const bad = await svc.request('POST', INVENTORY, { token: t.pharmacist, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(expectValidationErrors(bad).length).toBeGreaterThan(0);
    }
    expect(await snapshot(svc)).toEqual(before);
  });

  it('refuses a second item with the same SKU with 409 naming the first', async () => {
    const first = await createItem(svc, t.pharmacist);
    const before = await snapshot(svc);
    const res = await svc.request('POST', INVENTORY, {
      token: t.pharmacist,
      body: newItem({ sku: first.sku, lots: [{ lotNumber: 'X', expiry: '2027-12-31', quantity: 3 }] }),
    });
    const problem = expectProblem(res, 409);
    expect(problem.code).toBe('sku_exists');
    expect(problem.existingId).toBe(first.id);
    expect(await snapshot(svc)).toEqual(before);
  });

  it('a lot whose last usable day is today is accepted (it expires tomorrow, in Berlin)', async () => {
    const item = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'TODAY', expiry: '2027-03-10', quantity: 2 }] }),
    );
    expect(item.lots).toEqual([
      { lotNumber: 'TODAY', expiry: '2027-03-10', quantity: 2, reserved: 0, expired: false },
    ]);
    expect(item.available).toBe(2);
  });
});

describe('GET /api/v1/inventory/:id', () => {
  it('404 for an unknown id, 400 naming /params/id for a malformed one', async () => {
    const res = await svc.request('GET', `${INVENTORY}/0190f3a0-0000-7000-8000-0000000000ff`, {
      token: t.nurse,
    });
    expect(expectProblem(res, 404).code).toBe('item_not_found');
    const bad = await svc.request('GET', `${INVENTORY}/not-a-uuid`, { token: t.nurse });
    expect(expectValidationErrors(bad).map((e) => e.path)).toEqual(['/params/id']);
  });
});

describe('PUT /api/v1/inventory/:id', () => {
  let item: InventoryItem;
  const body = () => ({
    sku: item.sku,
    name: 'Amoxicillin 500 mg capsules (blister)',
    category: item.category,
    unit: 'capsule',
    reorderThreshold: 5,
    reorderQuantity: 200,
  });

  beforeAll(async () => {
    item = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'P1', expiry: '2027-12-31', quantity: 30 }] }),
    );
  });

  it('needs If-Match (428), refuses a stale one (412), and replaces the record with version + 1', async () => {
    const before = await snapshot(svc);
    expectProblem(
      await svc.request('PUT', `${INVENTORY}/${item.id}`, { token: t.pharmacist, body: body() }),
      428,
    );
    expectProblem(
      await svc.request('PUT', `${INVENTORY}/${item.id}`, {
        token: t.pharmacist,
        body: body(),
        headers: { 'if-match': '"v7"' },
      }),
      412,
    );
    expect(await snapshot(svc)).toEqual(before);

    const res = await svc.request<InventoryItem>('PUT', `${INVENTORY}/${item.id}`, {
      token: t.pharmacist,
      body: body(),
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    // supplier omitted: cleared; stock as it was
    expect(res.body).toEqual({
      ...item,
      name: 'Amoxicillin 500 mg capsules (blister)',
      reorderThreshold: 5,
      reorderQuantity: 200,
      supplier: undefined,
      version: 2,
    });
    expect(res.body).not.toHaveProperty('supplier');
  });

  it('a PUT that changes nothing keeps the version', async () => {
    const current = await fetchItem(svc, t.nurse, item.id);
    const res = await svc.request<InventoryItem>('PUT', `${INVENTORY}/${item.id}`, {
      token: t.pharmacist,
      body: body(),
      headers: { 'if-match': `"v${current.version}"` },
    });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(current.version);
  });

  it('refuses lots in the body (stock is not part of the record) and a SKU taken by another item', async () => {
    const other = await createItem(svc, t.pharmacist);
    const before = await snapshot(svc);
    const withLots = await svc.request('PUT', `${INVENTORY}/${item.id}`, {
      token: t.pharmacist,
      body: { ...body(), lots: [] },
      headers: { 'if-match': '*' },
    });
    expectProblem(withLots, 400);
    const taken = await svc.request('PUT', `${INVENTORY}/${item.id}`, {
      token: t.pharmacist,
      body: { ...body(), sku: other.sku },
      headers: { 'if-match': '*' },
    });
    expect(expectProblem(taken, 409).existingId).toBe(other.id);
    expect(await snapshot(svc)).toEqual(before);
  });

  it('404 for an unknown item', async () => {
    const res = await svc.request('PUT', `${INVENTORY}/0190f3a0-0000-7000-8000-0000000000ff`, {
      token: t.pharmacist,
      body: body(),
      headers: { 'if-match': '*' },
    });
    expect(expectProblem(res, 404).code).toBe('item_not_found');
  });
});

describe('GET /api/v1/inventory', () => {
  const category = `list-${Date.now().toString(36)}`;
  const made: InventoryItem[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 5; i += 1)
      made.push(
        await createItem(
          svc,
          t.pharmacist,
          newItem({ category, lots: [{ lotNumber: `L${i}`, expiry: '2027-12-31', quantity: i + 1 }] }),
        ),
      );
  });

  it('lists the items of a category in creation order, paged', async () => {
    const { items, pages } = await readAllPages<InventoryItem>(svc, INVENTORY, t.nurse, {
      category,
      limit: 2,
    });
    expect(pages).toBe(3);
    expect(items.map((i) => i.id)).toEqual(made.map((i) => i.id));
    expect(items.map((i) => i.quantityOnHand)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a cursor it did not issue and an unknown parameter', async () => {
    const res = await svc.request('GET', `${INVENTORY}?cursor=bm9wZQ`, { token: t.nurse });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
    expectProblem(await svc.request('GET', `${INVENTORY}?colour=red`, { token: t.nurse }), 400);
  });
});

describe('GET /api/v1/inventory?expiringBefore=', () => {
  let soon: InventoryItem;
  let later: InventoryItem;

  beforeAll(async () => {
    // dates far from the other tests' 2027-06 … 2027-12 lots, so this list sees only its own
    soon = await createItem(
      svc,
      t.pharmacist,
      newItem({
        lots: [
          { lotNumber: 'S-2', expiry: '2027-03-12', quantity: 4 },
          { lotNumber: 'S-1', expiry: '2027-03-11', quantity: 3 },
          { lotNumber: 'S-3', expiry: '2027-04-20', quantity: 9 },
        ],
      }),
    );
    later = await createItem(
      svc,
      t.pharmacist,
      newItem({ lots: [{ lotNumber: 'T-1', expiry: '2027-03-11', quantity: 6 }] }),
    );
    await reserved(svc, t.pharmacy, { itemId: later.id, quantity: 2 });
  });

  it('lists the lots holding stock whose last usable day is before the date, earliest first, paged', async () => {
    const { items, pages } = await readAllPages<ExpiringLot>(svc, INVENTORY, t.nurse, {
      expiringBefore: '2027-03-13',
      limit: 2,
    });
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(items.every((l) => l.expiry < '2027-03-13' && l.quantity > 0)).toBe(true);
    const keys = items.map((l) => `${l.expiry}|${l.itemId}|${l.lotNumber}`);
    expect(keys).toEqual([...keys].sort());
    const mine = items.filter((l) => l.itemId === soon.id || l.itemId === later.id);
    // on 2027-03-11 both S-1 and T-1 expire: by item id (creation order), then lot
    expect(mine).toEqual([
      {
        itemId: soon.id,
        sku: soon.sku,
        name: soon.name,
        unit: 'capsule',
        lotNumber: 'S-1',
        expiry: '2027-03-11',
        quantity: 3,
        reserved: 0,
        expired: false,
      },
      {
        itemId: later.id,
        sku: later.sku,
        name: later.name,
        unit: 'capsule',
        lotNumber: 'T-1',
        expiry: '2027-03-11',
        quantity: 6,
        reserved: 2,
        expired: false,
      },
      {
        itemId: soon.id,
        sku: soon.sku,
        name: soon.name,
        unit: 'capsule',
        lotNumber: 'S-2',
        expiry: '2027-03-12',
        quantity: 4,
        reserved: 0,
        expired: false,
      },
    ]);
  });

  it('keeps to one category when given', async () => {
    const res = await svc.request<Page<ExpiringLot>>(
      'GET',
      `${INVENTORY}?expiringBefore=2027-03-12&category=${encodeURIComponent(later.category)}`,
      { token: t.nurse },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((l) => [l.itemId, l.lotNumber])).toEqual([[later.id, 'T-1']]);
  });

  it('refuses a date that is not YYYY-MM-DD', async () => {
    const res = await svc.request('GET', `${INVENTORY}?expiringBefore=13.03.2027`, { token: t.nurse });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/expiringBefore']);
  });
});
