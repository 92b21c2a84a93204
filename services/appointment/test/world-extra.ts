import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SERVICE_PERMISSIONS } from '@hms/contracts';
import { patientService } from '@hms/patient';
import { createMetrics, startModule, type Db, type Queryable } from '@hms/platform';
import { staffService } from '@hms/staff';
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
  type TestKeys,
} from '@hms/testkit';
import type pg from 'pg';
import { appointmentService } from '../src/service.js';

/**
 * What the concurrency, property and resilience tests need beyond helpers.ts: Appointment on a
 * pool of a known size (the testkit's own databases have 5 connections), Appointment on a bus of
 * its own (its copies stay empty), a switchable proxy in front of Staff and Patient, requests
 * bounded by a client timeout, and the SQL that looks for overlapping active appointments.
 */

export interface RaceWorld {
  keys: TestKeys;
  staff: RunningService;
  patient: RunningService;
  appointment: RunningService;
  tokens: {
    /** receptionist: appointments:read|write, patients:read|write, staff:read */
    desk: string;
    /** manager: staff:read|write */
    manager: string;
  };
  close(): Promise<void>;
}

export interface RaceWorldOptions {
  /** Appointment's DB_POOL_MAX (real PostgreSQL only; the testkit's own pool has 5). */
  poolMax?: number;
  appointmentEnv?: NodeJS.ProcessEnv;
  /** Appointment on a bus of its own: it hears none of Staff's and Patient's events. */
  isolated?: boolean;
  /** Where Appointment reaches Staff and Patient (a proxy); default their own addresses. */
  through?: (
    staff: RunningService,
    patient: RunningService,
  ) => Promise<{ staffUrl: string; patientUrl: string }>;
}

export async function startRaceWorld(opts: RaceWorldOptions = {}): Promise<RaceWorld> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const ownBus = opts.isolated ? await createTestBus() : undefined;
  const staff = await startService(staffService, { keys, bus: bus.bus });
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const urls = opts.through
    ? await opts.through(staff, patient)
    : { staffUrl: staff.url, patientUrl: patient.url };
  const appointment = await startAppointment({
    keys,
    bus: (ownBus ?? bus).bus,
    poolMax: opts.poolMax,
    env: { STAFF_URL: urls.staffUrl, PATIENT_URL: urls.patientUrl, ...opts.appointmentEnv },
  });
  return {
    keys,
    staff,
    patient,
    appointment,
    tokens: {
      desk: await keys.mint({ roles: ['receptionist'] }),
      manager: await keys.mint({ roles: ['manager'] }),
    },
    async close() {
      await appointment.close();
      await patient.close();
      await staff.close();
      await ownBus?.close();
      await bus.close();
    },
  };
}

/**
 * The Appointment service as the testkit's `startService` starts it, except that on real
 * PostgreSQL the service makes its own pool from `DATABASE_URL` and `DB_POOL_MAX` (the
 * configuration a deployment uses) instead of being handed the testkit's pool of 5.
 */
export async function startAppointment(opts: {
  keys: TestKeys;
  bus: RunningService['bus'];
  env: NodeJS.ProcessEnv;
  poolMax?: number | undefined;
}): Promise<RunningService> {
  const server = testServerUrl();
  if (!server || opts.poolMax === undefined)
    return startService(appointmentService, { keys: opts.keys, bus: opts.bus, env: opts.env });
  const database = await createThrowawayDatabase(server, 'hms_test_appointment');
  const store = await createTestStore();
  let running: Awaited<ReturnType<typeof startModule>>;
  try {
    running = await startModule(appointmentService, {
      env: {
        JWT_ISSUER: TEST_ISSUER,
        JWT_AUDIENCE: TEST_AUDIENCE,
        DATABASE_URL: database.url,
        DB_POOL_MAX: String(opts.poolMax),
        ...opts.env,
      },
      bus: opts.bus,
      store: store.store,
      jwksUrl: opts.keys.jwksUrl,
      logger: testLogger('appointment'),
      metrics: createMetrics('appointment'),
      registryTiming: { ttlMs: 2000, cacheMs: 100 },
      timing: { relayIntervalMs: 100 },
      listen: { host: '127.0.0.1', port: 0, register: false },
      serviceToken: {
        token: () => opts.keys.mint({ sub: 'svc:appointment', scope: [...SERVICE_PERMISSIONS.appointment] }),
      },
    });
  } catch (err) {
    await store.close();
    await database.drop();
    throw err;
  }
  const { app, url, runtime, db } = running;
  return {
    app,
    url,
    db,
    bus: opts.bus,
    store: store.store,
    denyList: running.shared.denyList,
    runtime,
    keys: opts.keys,
    request: (method, path, ro = {}) => call(url, method, path, ro),
    managementUrl: running.management?.address ?? '',
    manage: (method, path, ro = {}) => call(running.management?.address ?? '', method, path, ro),
    async close() {
      await running.close();
      await store.close();
      await database.drop();
    },
  };
}

/** The size of a PostgreSQL pool (undefined for the embedded database). */
export function poolMaxOf(db: Db): number | undefined {
  const pool = (db as unknown as { pool?: pg.Pool }).pool;
  return pool?.options.max;
}

/**
 * One request over real HTTP, bounded by a client timeout (`AbortSignal.timeout`): a service
 * that hangs fails the test instead of stalling it.
 */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Two active appointments that overlap: of one staff member (busy spans) or of one patient. */
export interface Overlap {
  kind: 'staff' | 'patient';
  a: string;
  b: string;
}

/** Every pair of active appointments that overlaps, by SQL over what the database holds. */
export async function overlapsIn(db: Queryable): Promise<Overlap[]> {
  const { rows } = await db.query<Overlap>(
    `SELECT 'staff' AS kind, a.id AS a, b.id AS b FROM appointments a JOIN appointments b
        ON a.staff_id = b.staff_id AND a.id < b.id
       AND tstzrange(a.busy_from, a.busy_to, '[)') && tstzrange(b.busy_from, b.busy_to, '[)')
      WHERE a.status IN ('scheduled', 'checked-in') AND b.status IN ('scheduled', 'checked-in')
     UNION ALL
     SELECT 'patient', a.id, b.id FROM appointments a JOIN appointments b
        ON a.patient_id = b.patient_id AND a.id < b.id
       AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
      WHERE a.status IN ('scheduled', 'checked-in') AND b.status IN ('scheduled', 'checked-in')`,
  );
  return rows;
}

/** Rows whose busy span is not the appointment widened by its buffers (the CHECKs forbid it). */
export async function inconsistentBusySpans(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM appointments
      WHERE busy_from <> starts_at - buffer_before_min * interval '1 minute'
         OR busy_to <> ends_at + buffer_after_min * interval '1 minute'`,
  );
  return rows[0]?.n ?? -1;
}

/** Waits until the Appointment copy holds every id of `kind` (fed by events); bounded. */
export async function untilCopied(
  db: Queryable,
  kind: 'staff' | 'patient',
  ids: readonly string[],
  withinMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM local_copies WHERE kind = $1 AND id = ANY($2::text[])`,
      [kind, ids],
    );
    if ((rows[0]?.n ?? 0) >= ids.length) return;
    if (Date.now() > deadline)
      throw new Error(`only ${rows[0]?.n ?? 0} of ${ids.length} ${kind} entries were copied`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `work(i)` for i in [0, n) with at most `width` in flight. */
export async function inParallel(
  n: number,
  width: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next;
      next += 1;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
}

/**
 * A proxy in front of Staff and Patient that a test can switch: `up` forwards (`/api/v1/patients…`
 * to Patient, the rest to Staff), `hang` accepts requests and never answers, `down` stops
 * listening (connections are refused) until `up` listens again on the same port. Counts every
 * request that reaches it.
 */
export class SwitchableProxy {
  /** `METHOD path` of every request that reached the proxy. */
  readonly requests: string[] = [];
  private mode: 'up' | 'hang' = 'up';
  private listening = false;
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res);
  });

  private constructor(
    private readonly staffUrl: string,
    private readonly patientUrl: string,
    private port = 0,
  ) {}

  static async start(staffUrl: string, patientUrl: string): Promise<SwitchableProxy> {
    const proxy = new SwitchableProxy(staffUrl, patientUrl);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forwards again (listening again on the same port when it was down). */
  async up(): Promise<void> {
    this.mode = 'up';
    this.releaseHanging();
    if (!this.listening) await this.listen();
  }

  /** Forgets the requests counted so far. */
  reset(): void {
    this.requests.length = 0;
  }

  /** Accepts requests and never answers them. */
  async hang(): Promise<void> {
    this.mode = 'hang';
    if (!this.listening) await this.listen();
  }

  /** Stops listening and drops every connection: the owner is unreachable. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.releaseHanging();
    this.server.closeAllConnections();
    await closed;
  }

  async close(): Promise<void> {
    await this.down();
  }

  private releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push(`${req.method ?? 'GET'} ${path}`);
    if (this.mode === 'hang') {
      this.hanging.add(res);
      return;
    }
    const target = new URL(path, path.startsWith('/api/v1/patients') ? this.patientUrl : this.staffUrl);
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

/**
 * A sample of a service's /metrics (Prometheus text): the value of `name` whose labels include
 * every one of `labels`, or undefined when there is none.
 */
export async function metric(
  serviceUrl: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const res = await call<string>(serviceUrl, 'GET', '/metrics', { timeoutMs: 5_000 });
  const line = res.body
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The circuit breaker's state for an upstream, as /metrics reports it: 0 closed, 1 half-open, 2 open. */
export const breakerState = (serviceUrl: string, upstream: string) =>
  metric(serviceUrl, 'circuit_breaker_state', { upstream });
