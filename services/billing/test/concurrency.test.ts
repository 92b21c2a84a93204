import { SERVICE_PERMISSIONS, type PaymentRecorded } from '@hms/contracts';
import { patientService } from '@hms/patient';
import { createMetrics, startModule } from '@hms/platform';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  createTestBus,
  createTestKeys,
  createTestStore,
  createThrowawayDatabase,
  startService,
  testLogger,
  testServerUrl,
  type ApiResponse,
  type RunningService,
} from '@hms/testkit';
import { useStarted } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { billingService } from '../src/service.js';
import { INVOICES, line, patientInput, unbalanced, type World } from './helpers.js';

/**
 * Payments racing on one invoice, on real PostgreSQL with Billing's own pool of 10 connections
 * (DB_POOL_MAX, as deployed): of payments that together exceed the balance, exactly as many win
 * as the balance holds, the rest are refused with 409, and the books balance afterwards. The
 * database's CHECK refuses an overpayment written behind the service's back.
 */
const server = testServerUrl();
const POOL = 10;

async function startRace(): Promise<
  Pick<World, 'billing' | 'patient' | 'tokens'> & { close(): Promise<void> }
> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const database = await createThrowawayDatabase(server as string, 'hms_test_billing');
  const store = await createTestStore();
  const running = await startModule(billingService, {
    env: {
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: database.url,
      DB_POOL_MAX: String(POOL),
      PATIENT_URL: patient.url,
    },
    bus: bus.bus,
    store: store.store,
    jwksUrl: keys.jwksUrl,
    logger: testLogger('billing'),
    metrics: createMetrics('billing'),
    registryTiming: { ttlMs: 2000, cacheMs: 100 },
    timing: { relayIntervalMs: 100 },
    listen: { host: '127.0.0.1', port: 0, register: false },
    serviceToken: {
      token: () => keys.mint({ sub: 'svc:billing', scope: [...SERVICE_PERMISSIONS.billing] }),
    },
  });
  const request = async <T>(method: string, path: string, o: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(running.url + path, {
      method,
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as T } as ApiResponse<T>;
  };
  const billing = { db: running.db, request } as unknown as RunningService;
  return {
    billing,
    patient,
    tokens: {
      billing: await keys.mint({ roles: ['billing'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
      nurse: '',
      manager: '',
      admin: '',
    },
    async close() {
      await running.close();
      await store.close();
      await database.drop();
      await patient.close();
      await bus.close();
    },
  };
}

describe.skipIf(!server)('payments racing on one invoice (real PostgreSQL, a pool of 10)', () => {
  const race = useStarted(startRace, 60_000);

  async function issuedOf(unitPrice: number): Promise<string> {
    const w = race();
    const p = await w.patient.request<{ id: string }>('POST', '/api/v1/patients?confirmDuplicate=true', {
      token: w.tokens.desk,
      body: patientInput(),
    });
    expect(p.status).toBe(201);
    const inv = await w.billing.request<{ id: string }>('POST', INVOICES, {
      token: w.tokens.billing,
      body: { patientId: p.body.id, lines: [line({ unitPrice })] },
    });
    expect(inv.status, JSON.stringify(inv.body)).toBe(201);
    const out = await w.billing.request('POST', `${INVOICES}/${inv.body.id}/issue`, {
      token: w.tokens.billing,
    });
    expect(out.status).toBe(200);
    return inv.body.id;
  }

  const payAll = (id: string, amounts: number[]) =>
    Promise.all(
      amounts.map((amount) =>
        race().billing.request<PaymentRecorded & { code?: string }>('POST', `${INVOICES}/${id}/payments`, {
          token: race().tokens.desk,
          body: { amount, currency: 'USD', method: 'card' },
        }),
      ),
    );

  it('of two payments that together exceed the balance, exactly one wins', async () => {
    const id = await issuedOf(10_000);
    const answers = await payAll(id, [6_000, 6_000]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(answers.find((a) => a.status === 409)?.body).toMatchObject({
      code: 'exceeds_balance',
      balance: 4_000,
    });
    const inv = await race().billing.request<{ balance: number; paid: number; status: string }>(
      'GET',
      `${INVOICES}/${id}`,
      {
        token: race().tokens.billing,
      },
    );
    expect(inv.body).toMatchObject({ paid: 6_000, balance: 4_000, status: 'issued' });
  });

  it('of 50 payments at once worth 2.5 times the balance, exactly 20 win and the invoice is paid', async () => {
    const id = await issuedOf(20_000);
    const answers = await payAll(
      id,
      Array.from({ length: 50 }, () => 1_000),
    );
    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(20);
    // refused: above the balance left, or on the invoice once it is paid
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(30);
    expect(new Set(refused.map((a) => a.body.code))).toSatisfy((codes: Set<string | undefined>) =>
      [...codes].every((c) => c === 'exceeds_balance' || c === 'invoice_not_open'),
    );
    const inv = await race().billing.request<{
      balance: number;
      paid: number;
      status: string;
      payments: unknown[];
    }>('GET', `${INVOICES}/${id}`, { token: race().tokens.billing });
    expect(inv.body).toMatchObject({ paid: 20_000, balance: 0, status: 'paid' });
    expect(inv.body.payments).toHaveLength(20);
    // each winner saw the balance the one before it left: 19 000, 18 000 … 0, each once
    expect(won.map((a) => a.body.invoice.balance).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i * 1_000),
    );
    expect(await unbalanced(race().billing)).toEqual([]);
  });

  it('refuses, in the database itself, a ledger that would owe less than nothing', async () => {
    const id = await issuedOf(5_000);
    await expect(
      race().billing.db.query('UPDATE invoices SET paid = total + 1 WHERE id = $1', [id]),
    ).rejects.toMatchObject({
      code: '23514',
    });
    await expect(
      race().billing.db.query(
        "UPDATE invoices SET status = 'void', voided_at = now(), void_reason = 'x', paid = 1 WHERE id = $1",
        [id],
      ),
    ).rejects.toMatchObject({ code: '23514' });
  });
});
