/**
 * What the dispensing benchmark fills: a fresh database, and (through the gateway's API, as the
 * people would make them) the prescribing physician, the patients, the stocked medication and
 * the prescriptions. Api, inParallel and freshDatabase are copies of bench/scheduling's.
 */
import pg from 'pg';
import { Pool } from 'undici';

const DAY = 86_400_000;
/** Refills per prescription item (the most the API allows): each prescription is 1 + 12 fills. */
export const REFILLS = 12;
export const FILLS_PER_PRESCRIPTION = 1 + REFILLS;

export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A new, empty database (fills use prescriptions and stock up: a run never reuses an earlier one's). */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return databaseUrl(serverUrl, name);
}

// ---- the API, through the gateway

export class Api {
  readonly pool: Pool;
  constructor(origin: string, connections = 16) {
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    token: string | undefined,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
    const headers: Record<string, string> = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.pool.request({
      method,
      path,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  }

  /** POST that must answer 201; answers the created resource. */
  async create<T>(path: string, token: string, body: unknown): Promise<T> {
    const res = await this.call<T>('POST', path, token, body);
    if (res.status !== 201)
      throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    return res.body;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` at once; answers the results in order. */
export async function inParallel<T>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

// ---- bodies

export function physicianBody() {
  return {
    givenName: 'Bench',
    familyName: 'Prescriber',
    role: 'physician' as const,
    department: 'Internal Medicine',
    specialties: ['general-practice'],
    timezone: 'UTC',
    weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({
      day,
      start: '08:00',
      end: '18:00',
    })),
    overrides: [],
  };
}

export function patientBody(i: number) {
  return {
    givenName: 'Bench',
    familyName: `Patient${i}`,
    birthDate: `19${String(40 + (i % 60))}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
    sex: i % 2 === 0 ? ('female' as const) : ('male' as const),
  };
}

/** A date `days` from now, YYYY-MM-DD (UTC). */
export function dateAhead(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString().slice(0, 10);
}

/**
 * The stocked item: `lots` lots of `perLot` units each, expiring a year and more ahead (so the
 * reservations take the earliest one first, and move to the next when it runs out), and a
 * reorder threshold no run reaches.
 */
export function inventoryItemBody(runId: string, lots: number, perLot: number) {
  return {
    sku: `BENCH-AMOX-${runId}`,
    name: 'Amoxicillin 500 mg capsule (bench)',
    category: 'medication',
    unit: 'capsule',
    reorderThreshold: 1,
    reorderQuantity: 1000,
    supplier: 'Bench Supplies',
    lots: Array.from({ length: lots }, (_, i) => ({
      lotNumber: `BENCH-${runId}-${i + 1}`,
      expiry: dateAhead(400 + 30 * i),
      quantity: perLot,
    })),
  };
}

export function medicationBody(runId: string, inventoryItemId: string) {
  return {
    code: `bench-${runId}`,
    name: 'Amoxicillin (bench)',
    form: 'capsule',
    strength: '500 mg',
    unit: 'capsule',
    ingredients: ['amoxicillin'],
    drugClasses: ['penicillins'],
    inventoryItemId,
  };
}

/** One item, `quantity` units per fill, the most refills: 13 fills. */
export function prescriptionBody(patientId: string, medicationId: string, quantity: number) {
  return {
    patientId,
    items: [
      {
        medicationId,
        dose: '500 mg',
        route: 'oral',
        frequency: 'three times a day',
        quantity,
        refills: REFILLS,
      },
    ],
    notes: 'bench/dispensing',
  };
}
