import { SERVICE_PERMISSIONS, type InventoryItem, type Prescription, type Reservation } from '@hms/contracts';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { PostgresDb } from '@hms/platform';
import { staffService } from '@hms/staff';
import {
  createTestBus,
  createTestKeys,
  createThrowawayDatabase,
  startService,
  type ApiResponse,
} from '@hms/testkit';
import { useStarted } from '@hms/testkit/vitest';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { amoxicillin, eventually, item, patientInput, staffInput, unique } from './helpers.js';

/**
 * Issue #12's "a consumer process killed with SIGKILL between reserve and confirm, then restarted,
 * ends consistent": Pharmacy runs in a process of its own (pharmacy-process.mjs, the built
 * service) on real PostgreSQL, RabbitMQ and Redis; Staff, Patient and Inventory run here on the
 * same broker namespace. A proxy in front of Inventory holds the saga's confirmation, so the
 * process is killed with its reservation held and its fill pending; restarted on the same
 * database, its resume job finishes the fill and Inventory decrements once.
 */
const PROCESS = fileURLToPath(new URL('./pharmacy-process.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const real = Boolean(
  process.env.TEST_DATABASE_URL && process.env.TEST_AMQP_URL && process.env.TEST_REDIS_URL,
);

/** Forwards to Inventory; while `holdConfirm`, a confirmation is kept unanswered and never forwarded. */
class HoldingProxy {
  holdConfirm = false;
  readonly held: string[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  private constructor(private readonly target: string) {}

  static async start(target: string): Promise<HoldingProxy> {
    const proxy = new HoldingProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    if (this.holdConfirm && path.endsWith('/confirm')) {
      this.held.push(path);
      this.hanging.add(res);
      req.resume();
      return;
    }
    const target = new URL(path, this.target);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
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

interface Child {
  process: ChildProcessWithoutNullStreams;
  url: string;
}

/** Starts Pharmacy's process and answers once it listens. */
async function spawnPharmacy(env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(process.execPath, [PROCESS], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pharmacy did not start: ${err}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pharmacy exited (${code}) before it was ready: ${err}`));
    });
  });
  return { process: child, url };
}

function kill(c: Child): Promise<void> {
  return new Promise((resolve) => {
    if (c.process.exitCode !== null || c.process.signalCode !== null) {
      resolve();
      return;
    }
    c.process.once('exit', () => resolve());
    c.process.kill('SIGKILL');
  });
}

/** A request to the child (outside the testkit's RunningService). */
async function send<T>(url: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(new URL(path, url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T } as ApiResponse<T>;
}

async function startPlatform() {
  // the process runs the built service: build it as the tree is (a no-op when up to date)
  execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const keys = await createTestKeys();
  const namespace = `test_${randomBytes(4).toString('hex')}`;
  const bus = await createTestBus({ kind: 'rabbitmq', namespace });
  const staff = await startService(staffService, { keys, bus: bus.bus });
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const inventory = await startService(inventoryService, { keys, bus: bus.bus });
  const proxy = await HoldingProxy.start(inventory.url);
  const database = await createThrowawayDatabase(process.env.TEST_DATABASE_URL as string, 'pharmacy_kill');
  const db = new PostgresDb({ url: database.url, schema: 'pharmacy', poolMax: 2 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DATABASE_URL: database.url,
    AMQP_URL: process.env.TEST_AMQP_URL,
    REDIS_URL: process.env.TEST_REDIS_URL,
    JWKS_URL: keys.jwksUrl,
    BUS_NAMESPACE: namespace,
    SERVICE_TOKEN: await keys.mint({
      sub: 'svc:pharmacy',
      scope: [...SERVICE_PERMISSIONS.pharmacy],
      expiresInSec: 3600,
    }),
    STAFF_URL: staff.url,
    PATIENT_URL: patient.url,
    INVENTORY_URL: proxy.url,
    PHARMACY_RESUME_JOB_MS: '100',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  let child = await spawnPharmacy(env);
  const manager = await keys.mint({ roles: ['manager'] });
  const physician = await send<{ id: string }>(staff.url, 'POST', '/api/v1/staff', manager, staffInput());
  expect(physician.status).toBe(201);
  return {
    inventory,
    proxy,
    db,
    child: () => child,
    async restart() {
      child = await spawnPharmacy(env);
    },
    patientUrl: patient.url,
    tokens: {
      physician: await keys.mint({ roles: ['physician'], staffId: physician.body.id }),
      pharmacist: await keys.mint({ roles: ['pharmacist'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
    },
    async close() {
      await kill(child);
      await proxy.close();
      await inventory.close();
      await patient.close();
      await staff.close();
      await bus.close();
      await db.close();
      await database.drop();
    },
  };
}

describe.skipIf(!real)('Pharmacy killed with SIGKILL between reserve and confirm', () => {
  const platform = useStarted(startPlatform, 120_000);

  it('restarted on the same database, finishes the fill: confirmed, dispensed once, stock exact', async () => {
    const p = platform();
    const pharmacy = () => p.child().url;
    const stock = await p.inventory.request<InventoryItem>('POST', '/api/v1/inventory', {
      token: p.tokens.pharmacist,
      body: {
        sku: `AMOX-${unique()}`,
        name: 'Amoxicillin 500 mg capsules',
        category: 'antibiotics',
        unit: 'capsule',
        reorderThreshold: 0,
        reorderQuantity: 100,
        lots: [{ lotNumber: 'K1', expiry: '2099-01-31', quantity: 20 }],
      },
    });
    expect(stock.status).toBe(201);
    const itemId = stock.body.id;
    const med = await send<{ id: string }>(
      pharmacy(),
      'POST',
      '/api/v1/medications',
      p.tokens.pharmacist,
      amoxicillin({ inventoryItemId: itemId }),
    );
    expect(med.status, JSON.stringify(med.body)).toBe(201);
    const patient = await send<{ id: string }>(
      p.patientUrl,
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      p.tokens.desk,
      patientInput(),
    );
    expect(patient.status).toBe(201);
    const rx = await send<Prescription>(pharmacy(), 'POST', '/api/v1/prescriptions', p.tokens.physician, {
      patientId: patient.body.id,
      items: [item(med.body.id, { quantity: 8 })],
    });
    expect(rx.status, JSON.stringify(rx.body)).toBe(201);

    // the fill reserves, then waits on its confirmation: the process is killed right there
    p.proxy.holdConfirm = true;
    const inFlight = send(
      pharmacy(),
      'POST',
      `/api/v1/prescriptions/${rx.body.id}/fill`,
      p.tokens.pharmacist,
    ).catch((err: unknown) => err);
    await eventually(async () => p.proxy.held.length > 0, 'the confirmation to be asked');
    await kill(p.child());
    expect(await inFlight).toBeInstanceOf(Error);

    // what the dead process left: a pending fill whose units are held at Inventory, unconfirmed
    const { rows } = await p.db.query<{ state: string; reservation_id: string; pending: number }>(
      `SELECT f.state, l.reservation_id, i.pending FROM fills f
         JOIN fill_lines l ON l.fill_id = f.id
         JOIN prescription_items i ON i.prescription_id = f.prescription_id
        WHERE f.prescription_id = $1`,
      [rx.body.id],
    );
    expect(rows).toHaveLength(1);
    const left = rows[0] as { state: string; reservation_id: string; pending: number };
    expect(left).toMatchObject({ state: 'pending', pending: 8 });
    const reservation = await p.inventory.request<Reservation>(
      'GET',
      `/api/v1/inventory/reservations/${left.reservation_id}`,
      { token: p.tokens.pharmacist },
    );
    expect(reservation.body.state).toBe('held');
    const itemNow = async () =>
      (
        await p.inventory.request<InventoryItem>('GET', `/api/v1/inventory/${itemId}`, {
          token: p.tokens.pharmacist,
        })
      ).body;
    expect(await itemNow()).toMatchObject({ quantityOnHand: 20, reserved: 8 });

    // the resume job takes over fills pending a minute or more: the minute passes (on the record)
    await p.db.query(
      `UPDATE fills SET created_at = created_at - interval '61 seconds' WHERE state = 'pending'`,
    );
    p.proxy.holdConfirm = false;
    await p.restart();

    const rxNow = async () =>
      (
        await send<Prescription>(
          pharmacy(),
          'GET',
          `/api/v1/prescriptions/${rx.body.id}`,
          p.tokens.pharmacist,
        )
      ).body;
    await eventually(async () => (await rxNow()).fills[0]?.state === 'completed', 'the resumed fill', 20_000);
    const after = await rxNow();
    expect(after.fills).toHaveLength(1);
    expect(after.status).toBe('completed');
    expect(after.items[0]).toMatchObject({ dispensed: 8, pending: 0 });
    expect(after.fills[0]?.quantities[0]).toMatchObject({
      reservationId: left.reservation_id,
      lots: [{ lotNumber: 'K1', quantity: 8 }],
    });

    // Inventory turned the one reservation into one decrement
    await eventually(async () => (await itemNow()).quantityOnHand === 12, 'stock to drop', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await itemNow()).toMatchObject({ quantityOnHand: 12, reserved: 0, available: 12 });
    const consumed = await p.inventory.request<Reservation>(
      'GET',
      `/api/v1/inventory/reservations/${left.reservation_id}`,
      { token: p.tokens.pharmacist },
    );
    expect(consumed.body.state).toBe('consumed');
  }, 90_000);
});
