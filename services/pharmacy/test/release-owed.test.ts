import type { InventoryItem, Prescription, Reservation } from '@hms/contracts';
import { useStarted } from '@hms/testkit/vitest';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  PRESCRIPTIONS,
  addMedication,
  amoxicillin,
  eventually,
  item,
  prescribed,
  register,
  startWorld,
  unique,
} from './helpers.js';

/**
 * A proxy in front of Inventory, as Pharmacy reaches it. `up`: forwards everything. `lossy`:
 * reservations are forwarded, a confirmation reaches Inventory but its answer is lost (503), and a
 * release never reaches it (503): Inventory is unreachable just as the saga compensates.
 */
class LossyProxy {
  mode: 'up' | 'lossy' = 'up';
  target = '';
  private readonly server = createServer((req, res) => this.handle(req, res));

  static async start(): Promise<LossyProxy> {
    const proxy = new LossyProxy();
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private unavailable(res: ServerResponse): void {
    res.writeHead(503, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ status: 503, code: 'unavailable', title: 'Service unavailable' }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    if (this.mode === 'lossy' && path.endsWith('/release')) {
      req.resume();
      this.unavailable(res);
      return;
    }
    const loseAnswer = this.mode === 'lossy' && path.endsWith('/confirm');
    const target = new URL(path, this.target);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => this.unavailable(res));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

/**
 * The saga's compensation when Inventory cannot answer the release: the fill's reservation was
 * confirmed (a confirmed hold never times out), the confirmation's answer was lost, the fill was
 * rejected and the release failed. The line records that its release is owed, and the resume job
 * retries it until Inventory confirms it: the reservation ends released, the stock free again.
 */
const started = useStarted(async () => {
  const proxy = await LossyProxy.start();
  const w = await startWorld({
    pharmacyEnv: { INVENTORY_URL: proxy.url, PHARMACY_RESUME_JOB_MS: '100' },
  });
  proxy.target = w.inventory.url;
  return {
    w,
    proxy,
    async close() {
      await w.close();
      await proxy.close();
    },
  };
}, 60_000);

describe('a release Inventory could not answer during compensation', () => {
  it('is owed on the fill line and retried until the confirmed reservation ends released', async () => {
    const { w, proxy } = started();
    const stock = await w.inventory.request<InventoryItem>('POST', '/api/v1/inventory', {
      token: w.tokens.pharmacist,
      body: {
        sku: `AMOX-${unique()}`,
        name: 'Amoxicillin 500 mg capsules',
        category: 'antibiotics',
        unit: 'capsule',
        reorderThreshold: 0,
        reorderQuantity: 100,
        lots: [{ lotNumber: 'O1', expiry: '2099-01-31', quantity: 20 }],
      },
    });
    expect(stock.status).toBe(201);
    const itemId = stock.body.id;
    const med = await addMedication(w, amoxicillin({ inventoryItemId: itemId }));
    const patientId = (await register(w)).id;
    const rx = await prescribed(w, { patientId, items: [item(med.id, { quantity: 8 })] });

    proxy.mode = 'lossy';
    const res = await w.pharmacy.request<{ code: string; reason: string; fillId: string }>(
      'POST',
      `${PRESCRIPTIONS}/${rx.id}/fill`,
      { token: w.tokens.pharmacist },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body).toMatchObject({ code: 'fill_rejected', reason: 'inventory unavailable' });

    // the fill is rejected and its units given back; at Inventory the hold is confirmed, still held
    const rxNow = (
      await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${rx.id}`, {
        token: w.tokens.pharmacist,
      })
    ).body;
    expect(rxNow.status).toBe('active');
    expect(rxNow.items[0]).toMatchObject({ dispensed: 0, pending: 0 });
    expect(rxNow.fills[0]).toMatchObject({ state: 'rejected', reason: 'inventory unavailable' });
    const reservationId = rxNow.fills[0]?.quantities[0]?.reservationId as string;
    expect(reservationId).toBeTruthy();
    const reservation = () =>
      w.inventory.request<Reservation>('GET', `/api/v1/inventory/reservations/${reservationId}`, {
        token: w.tokens.pharmacist,
      });
    expect((await reservation()).body.state).toBe('confirmed');
    const itemNow = async () =>
      (
        await w.inventory.request<InventoryItem>('GET', `/api/v1/inventory/${itemId}`, {
          token: w.tokens.pharmacist,
        })
      ).body;
    expect(await itemNow()).toMatchObject({ quantityOnHand: 20, reserved: 8, available: 12 });
    const owed = async () =>
      (
        await w.pharmacy.db.query<{ release_owed: boolean }>(
          'SELECT release_owed FROM fill_lines WHERE reservation_id = $1',
          [reservationId],
        )
      ).rows[0]?.release_owed;
    expect(await owed()).toBe(true);

    // while Inventory stays unreachable the release stays owed, the stock held
    await new Promise((r) => setTimeout(r, 500));
    expect(await owed()).toBe(true);
    expect((await reservation()).body.state).toBe('confirmed');

    // Inventory answers again: the resume job releases it (after the circuit breaker's half-open
    // wait when the failed retries opened it), and nothing is owed any more
    proxy.mode = 'up';
    await eventually(async () => (await reservation()).body.state === 'released', 'the owed release', 20_000);
    expect(await itemNow()).toMatchObject({ quantityOnHand: 20, reserved: 0, available: 20 });
    await eventually(async () => (await owed()) === false, 'the owed flag to clear', 5_000);
  }, 40_000);
});
