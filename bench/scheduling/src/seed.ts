/**
 * What the benchmark books into: a fresh database, the bare baseline's copy of the Appointment
 * tables, the staff members and patients (through the gateway's API, as a front desk would make
 * them), and the slots each booking takes.
 */
import { randomUUID } from 'node:crypto';
import { appointmentService } from '@hms/appointment';
import { PostgresDb, prepareDatabase } from '@hms/platform';
import { workingIntervals, type WorkSchedule } from '@hms/scheduling';
import pg from 'pg';
import { Pool } from 'undici';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** The schema of the bare baseline: the Appointment service's migrations, applied again under another name. */
export const BARE_SCHEMA = 'bare';
/** Phase 1's appointment type (15 minutes, no buffers) and the slot finder's (10 minutes). */
export const BOOKING_TYPE = { code: 'bench-15', name: 'Bench consultation', durationMin: 15 };
export const FINDER_TYPE = { code: 'bench-10', name: 'Bench check', durationMin: 10 };

export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new, empty database (bookings use slots up: a run never reuses an earlier one's). */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return databaseUrl(serverUrl, name);
}

/**
 * The baseline's tables: the Appointment service's own migrations (the kit's outbox, both
 * exclusion constraints, every index) in schema `bare`, where no relay reads the outbox, and the
 * booking type its rows reference.
 */
export async function prepareBare(url: string): Promise<void> {
  const db = new PostgresDb({ url, schema: BARE_SCHEMA, poolMax: 2 }); // the migration lock holds one;
  try {
    await prepareDatabase(appointmentService, db);
    await db.query(
      `INSERT INTO appointment_types (code, name, duration_min, created_at, updated_at) VALUES ($1, $2, $3, now(), now())`,
      [BOOKING_TYPE.code, BOOKING_TYPE.name, BOOKING_TYPE.durationMin],
    );
  } finally {
    await db.close();
  }
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
  ): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
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

// ---- staff members, their schedules and slots

const ZONES = [
  'Europe/London',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Europe/Berlin',
  'America/Santiago',
];

/** Staff member i's working week: Monday to Friday, 08:00–18:00 in one of six zones. */
export function scheduleOf(i: number): WorkSchedule {
  return {
    timezone: ZONES[i % ZONES.length] as string,
    weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({
      day,
      start: '08:00',
      end: '18:00',
    })),
    overrides: [],
  };
}

/** Around the clock, every day, in UTC: room for 2,000 ten-minute bookings in four weeks. */
export const ALWAYS: WorkSchedule = {
  timezone: 'UTC',
  weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({
    day,
    start: '00:00',
    end: '00:00',
  })),
  overrides: [],
};

export function staffBody(i: number, schedule: WorkSchedule, label = 'Bench') {
  return {
    givenName: label,
    familyName: `Staff${i}`,
    role: 'physician' as const,
    department: `Department ${i % 10}`,
    specialties: ['general-practice'],
    ...schedule,
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

/** Midnight UTC `days` days from now: the first day bookings are made on. */
export function daysAhead(days: number): number {
  return Math.floor(Date.now() / DAY) * DAY + days * DAY;
}

/**
 * `count` distinct back-to-back slots of `durationMin` inside the schedule's working time, from
 * `from` on: the first `count` of them, week after week.
 */
export function slotsOf(schedule: WorkSchedule, from: number, count: number, durationMin: number): number[] {
  const out: number[] = [];
  const length = durationMin * MINUTE;
  for (let week = from; out.length < count; week += 7 * DAY) {
    for (const iv of workingIntervals(schedule, { start: week, end: week + 7 * DAY }))
      for (let s = iv.start; s + length <= iv.end && out.length < count; s += length) out.push(s);
  }
  return out;
}

/**
 * Who books which slot. Booking k goes to staff member k mod S, at that staff member's next free
 * slot; the patient is one of the M patients who only ever see that staff member (whose slots
 * never overlap), so neither exclusion constraint is ever hit and every booking is a 201.
 */
export class BookingPlan {
  private readonly cursor: number[];
  private k = 0;

  constructor(
    readonly staffIds: readonly string[],
    /** S × M patients: patient s + S·m belongs to staff member s. */
    readonly patientIds: readonly string[],
    /** Each staff member's slots (start instants), in order. */
    readonly slots: readonly (readonly number[])[],
  ) {
    this.cursor = staffIds.map(() => 0);
  }

  get used(): number {
    return this.k;
  }

  next(): { staffId: string; patientId: string; start: number } {
    const S = this.staffIds.length;
    const M = this.patientIds.length / S;
    const s = this.k++ % S;
    const j = this.cursor[s] as number;
    this.cursor[s] = j + 1;
    const start = this.slots[s]?.[j];
    if (start === undefined) throw new Error(`staff member ${s} has no slot left (planned too few)`);
    return {
      staffId: this.staffIds[s] as string,
      patientId: this.patientIds[s + S * (j % M)] as string,
      start,
    };
  }
}

/** The baseline's people: ids only, as many as the service's, that no service knows. */
export function syntheticIds(n: number): string[] {
  return Array.from({ length: n }, () => randomUUID());
}

/**
 * The slot finder's load: `count` active ten-minute appointments of one staff member spread
 * evenly over [from, from + days), inserted with SQL into the Appointment service's table (each
 * with a patient of its own, as if booked over weeks).
 */
export async function seedFinderBookings(
  c: pg.Client,
  staffId: string,
  from: number,
  days: number,
  count: number,
): Promise<void> {
  const cells = Math.floor((days * DAY) / (FINDER_TYPE.durationMin * MINUTE));
  if (count > cells) throw new Error(`${count} ten-minute bookings do not fit in ${days} days`);
  const starts = Array.from({ length: count }, (_, i) =>
    new Date(from + Math.floor((i * cells) / count) * FINDER_TYPE.durationMin * MINUTE).toISOString(),
  );
  await c.query(
    `INSERT INTO appointment.appointments (id, patient_id, staff_id, type, starts_at, ends_at, busy_from, busy_to,
          history, created_at, updated_at)
       SELECT gen_random_uuid(), gen_random_uuid(), $1, $2, s, s + $3 * interval '1 minute', s,
              s + $3 * interval '1 minute', '[]', now(), now()
         FROM unnest($4::timestamptz[]) AS s`,
    [staffId, FINDER_TYPE.code, FINDER_TYPE.durationMin, starts],
  );
  await c.query('ANALYZE appointment.appointments');
}
