import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AnalyticsDashboard, Appointment, Patient } from '@hms/contracts';
import { LOG_SINK_ENV, noteSeededPatient, teeToSink } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPool, ownerOf } from '../src/demo/http.js';
import { seededRandom } from '../src/demo/random.js';
import { planBookings, type Slot } from '../src/demo/schedule.js';

/**
 * `npm run demo` (issue #15): after it, the dashboard and the services' lists show a living
 * hospital, and a second run on the same data is harmless. The built launcher runs as `npm run
 * demo` runs it (a child process, on a fresh data dir); the demo seeds it through the HTTP API and
 * the test reads it back through the gateway as the administrator. The expected figures are the
 * demo's design, written here by hand: 40 patients, 8 staff, 6 medications, about 110 bookings
 * (30 over the last day, 80 to come), every completed visit invoiced, one salbutamol fill taking
 * its stock below the threshold, each kind of claim answer at least once.
 */

const MINUTE = 60_000;

describe('the demo plan (pure)', () => {
  const NOW = Date.parse('2027-03-10T12:00:00.000Z');
  /** Back-to-back 15-minute grid slots of a 30-minute type, 08:00–18:00 on three days. */
  const gridSlots = (staffId: string): Slot[] =>
    [-1, 0, 1].flatMap((day) =>
      Array.from({ length: 39 }, (_, i) => {
        const start = Date.parse('2027-03-10T08:00:00.000Z') + day * 1440 * MINUTE + i * 15 * MINUTE;
        return {
          staffId,
          start: new Date(start).toISOString(),
          end: new Date(start + 30 * MINUTE).toISOString(),
        };
      }),
    );
  const plan = (seed: number) =>
    planBookings(seededRandom(seed), {
      clinicians: ['a', 'b'].map((staffId) => ({
        staffId,
        types: [
          { code: 'consult-30', durationMin: 30 },
          { code: 'follow-up-15', durationMin: 15 },
        ],
        slots: gridSlots(staffId),
      })),
      patients: 12,
      now: NOW,
      past: 20,
      future: 30,
    });

  it('books no clinician twice at once and no patient twice within four hours', () => {
    const bookings = plan(7);
    expect(bookings).toHaveLength(50);
    const span = (b: { start: string }) => Date.parse(b.start);
    for (const a of bookings)
      for (const b of bookings) {
        if (a === b) continue;
        if (a.staffId === b.staffId) expect(Math.abs(span(a) - span(b))).toBeGreaterThanOrEqual(30 * MINUTE);
        if (a.patient === b.patient) expect(Math.abs(span(a) - span(b))).toBeGreaterThanOrEqual(240 * MINUTE);
      }
  });

  it('decides what became of each visit by its time: over, under way, or to come', () => {
    const bookings = plan(7);
    const over = bookings.filter((b) => b.outcome === 'completed' || b.outcome === 'no-show');
    expect(over.every((b) => Date.parse(b.start) < NOW)).toBe(true);
    // one in six of the visits over was missed (the third, the ninth…), the rest completed
    expect(over.map((b) => b.outcome).slice(0, 9)).toEqual([
      'completed',
      'completed',
      'no-show',
      'completed',
      'completed',
      'completed',
      'completed',
      'completed',
      'no-show',
    ]);
    const toCome = bookings.filter((b) => b.outcome === 'scheduled' || b.outcome === 'cancelled');
    expect(toCome.every((b) => Date.parse(b.start) > NOW + 20 * MINUTE)).toBe(true);
    // one in twelve of those to come is cancelled: the 6th, the 18th, the 30th…
    const cancelled = toCome.flatMap((b, i) => (b.outcome === 'cancelled' ? [i] : []));
    expect(cancelled).toEqual([5, 17, 29].filter((i) => i < toCome.length));
    // under way at noon (a 30-minute visit since 11:45), or starting within 20 minutes: checked in
    const checkedIn = bookings.filter((b) => b.outcome === 'checked-in').map((b) => Date.parse(b.start));
    for (const start of checkedIn) {
      expect(start).toBeGreaterThan(NOW - 30 * MINUTE);
      expect(start).toBeLessThanOrEqual(NOW + 20 * MINUTE);
    }
    expect(over.length + checkedIn.length + toCome.length).toBe(bookings.length);
  });

  it('is the same plan for the same seed', () => {
    expect(plan(7)).toEqual(plan(7));
    expect(plan(8)).not.toEqual(plan(7));
  });
});

describe("the demo's HTTP helpers (pure)", () => {
  const services = ['patient', 'appointment', 'billing', 'gateway'].map((name, i) => ({
    name,
    url: `http://127.0.0.1:${9000 + i}`,
  }));

  it('sends a path to the service that owns its prefix, as the gateway routes it', () => {
    expect(ownerOf(services, '/api/v1/patients')).toBe('http://127.0.0.1:9000');
    expect(ownerOf(services, '/api/v1/appointments/slots')).toBe('http://127.0.0.1:9001');
    expect(ownerOf(services, '/api/v1/billing/fee-schedule/consult-30')).toBe('http://127.0.0.1:9002');
    expect(ownerOf(services, '/api/v1/claims/1/deny')).toBe('http://127.0.0.1:9002');
    // a prefix is a whole path segment: /api/v1/patientsX is nobody's
    expect(() => ownerOf(services, '/api/v1/patientsX')).toThrow(/no running service owns/);
    expect(() => ownerOf(services, '/api/v1/staff')).toThrow(/no running service owns/);
  });

  it('runs at most `concurrency` at once and answers in item order', async () => {
    let running = 0;
    let most = 0;
    const out = await inPool([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});

// ---- `npm run demo` as it ships: the built launcher with --demo, on a fresh data dir

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Starting eleven services on a fresh embedded database and seeding take a while on a busy 2-core machine. */
const START_MS = 120_000;
const SEED_MS = 120_000;

interface Launched {
  child: ChildProcessWithoutNullStreams;
  /** what the launcher printed for its reader (the banner, the demo's summary), line by line */
  printed: string[];
  exited: Promise<number | null>;
}

let dataDir: string;
let port: number;
let running: Launched | undefined;
const adminPassword = randomBytes(18).toString('base64url');

/**
 * Starts `node apps/embedded/dist/main.js --demo`. Its JSON log lines (every service's, at trace)
 * go into the PHI log guard's sink, which checks them for the demo patients' names, birth dates,
 * phones and emails when the run ends; the rest is what the reader of `npm run demo` sees.
 */
function launchDemo(): Launched {
  const child = spawn(process.execPath, [join(root, 'apps/embedded/dist/main.js'), '--demo'], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      HMS_DATA_DIR: join(dataDir, '.data'),
      PORT: String(port),
      LOG_LEVEL: 'trace',
      HMS_ADMIN_PASSWORD: adminPassword,
    },
  });
  const printed: string[] = [];
  const toSink = teeToSink(() => undefined);
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{')) toSink(`${line}\n`);
    else printed.push(line);
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, printed, exited };
}

/** Waits until the launcher printed a line matching `pattern`; answers it. */
async function printedLine(l: Launched, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = l.printed.find((x) => pattern.test(x));
    if (line !== undefined) return line;
    if (l.child.exitCode !== null)
      throw new Error(`the launcher exited (${l.child.exitCode}):\n${l.printed.join('\n')}`);
    if (Date.now() > deadline)
      throw new Error(`no line like ${pattern} within ${timeoutMs} ms:\n${l.printed.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(l: Launched | undefined): Promise<void> {
  if (!l || l.child.exitCode !== null) return;
  l.child.kill('SIGTERM');
  await Promise.race([l.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  l.child.kill('SIGKILL');
}

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  dataDir = mkdtempSync(join(tmpdir(), 'hms-demo-'));
  // below Linux's ephemeral port range, as in shutdown.test.ts: the platform takes PORT … PORT+10
  port = 20_000 + randomInt(12_000);
}, START_MS);

afterAll(async () => {
  await stop(running);
  rmSync(dataDir, { recursive: true, force: true });
});

let admin = '';
async function asAdmin<T>(path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  const body = (await res.json()) as T;
  expect(res.status, `GET ${path}: ${JSON.stringify(body)}`).toBe(200);
  return body;
}

/** Every item of a list, through the gateway as the administrator. */
async function listed<T = unknown>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } = await asAdmin(
      `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
const count = async (path: string) => (await listed(path)).length;

/** The fee schedule the demo sets up, minor units of USD. */
const PRICES: Record<string, number> = {
  'consult-30': 12_000,
  'follow-up-15': 6_500,
  'wound-care-30': 8_000,
  'vaccination-15': 4_500,
};

const shift = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 1440 * MINUTE).toISOString().slice(0, 10);

describe('npm run demo', () => {
  it(
    'seeds a living hospital that the dashboard and every list show',
    async () => {
      running = launchDemo();
      const summary = await printedLine(running, /^Demo hospital/, START_MS + SEED_MS);
      expect(running.printed.join('\n')).not.toMatch(/stopped part-way/);
      expect(summary).toMatch(
        /^Demo hospital \(seeded in [\d.]+ s\): 8 staff, 40 patients, 6 medications in the formulary/,
      );

      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: adminPassword }),
      });
      expect(login.status).toBe(200);
      admin = ((await login.json()) as { access_token: string }).access_token;
      // the guard looks for what the demo registered in every line the platform logged
      const patients = await listed<Patient>('/api/v1/patients');
      expect(patients).toHaveLength(40);
      noteSeededPatient(process.env[LOG_SINK_ENV] ?? mkdtempSync(join(tmpdir(), 'hms-no-sink-')), patients);

      // the services' own lists show the hospital
      expect(await count('/api/v1/staff')).toBe(8);
      expect(await count('/api/v1/medications')).toBe(6);
      expect(await count('/api/v1/inventory')).toBe(6);
      expect(await count('/api/v1/appointments/types')).toBe(4);
      expect(await count('/api/v1/billing/fee-schedule')).toBe(4);
      const today = (await asAdmin<AnalyticsDashboard>('/api/v1/analytics/dashboard')).from;
      const appointments = await listed<Appointment>(
        `/api/v1/appointments?from=${shift(today, -2)}T00:00:00Z`,
      );
      const byStatus = (status: Appointment['status']) => appointments.filter((x) => x.status === status);
      expect(appointments.length).toBeGreaterThanOrEqual(100);
      expect(byStatus('completed').length).toBeGreaterThanOrEqual(10);
      expect(byStatus('no-show').length).toBeGreaterThanOrEqual(1);
      expect(byStatus('cancelled').length).toBeGreaterThanOrEqual(5);
      expect(byStatus('scheduled').length).toBeGreaterThanOrEqual(60);
      const denied = await count('/api/v1/claims?status=denied');
      expect(denied).toBeGreaterThanOrEqual(1);
      expect(await count('/api/v1/claims?status=paid')).toBeGreaterThanOrEqual(1);
      // Billing drafted an invoice for every booking, and voided those of the cancelled and the missed
      await expect.poll(() => count('/api/v1/invoices'), { timeout: 20_000 }).toBe(appointments.length);
      await expect
        .poll(() => count('/api/v1/invoices?status=void'), { timeout: 20_000 })
        .toBe(byStatus('cancelled').length + byStatus('no-show').length);
      await expect
        .poll(() => count('/api/v1/notifications?event=appointment.booked'), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(60);
      await expect
        .poll(() => count('/api/v1/audit/events?type=appointment.created.v1'), { timeout: 20_000 })
        .toBe(appointments.length);

      // the dashboard of the last day and the week to come (the facility's days) counts the same,
      // once Analytics has taken every event: every completed visit invoiced today at its type's price
      const range = `/api/v1/analytics/dashboard?from=${shift(today, -1)}&to=${shift(today, 8)}`;
      const completed = byStatus('completed');
      await expect
        .poll(() => asAdmin<AnalyticsDashboard>(range), { timeout: 20_000 })
        .toMatchObject({
          patientsRegistered: 40,
          appointments: {
            scheduled: byStatus('scheduled').length,
            checkedIn: byStatus('checked-in').length,
            completed: completed.length,
            cancelled: byStatus('cancelled').length,
            noShow: byStatus('no-show').length,
          },
          invoiced: [
            {
              currency: 'USD',
              count: completed.length,
              amount: completed.reduce((sum, x) => sum + (PRICES[x.type] ?? Number.NaN), 0),
            },
          ],
          claims: { denied },
          stockAlerts: 1, // salbutamol, once
        });
      const d = await asAdmin<AnalyticsDashboard>(range);
      expect(d.denied[0]?.count).toBe(denied);
      expect(d.paid[0]?.count).toBeGreaterThanOrEqual(5);
      expect(d.claims.approved).toBeGreaterThanOrEqual(1);
      expect(d.prescriptionsFilled).toBeGreaterThanOrEqual(3);
      expect(await count('/api/v1/prescriptions')).toBeGreaterThanOrEqual(d.prescriptionsFilled);
    },
    START_MS + SEED_MS,
  );

  it(
    'adds nothing when run again on the same data (the demo users exist)',
    async () => {
      await stop(running);
      running = launchDemo();
      expect(await printedLine(running, /^Demo hospital/, START_MS)).toBe(
        'Demo hospital: seeded when the demo users were created (they existed already); nothing added',
      );
      expect(running.printed).toContain(
        '  demo-receptionist    (exists; its password was printed when it was created)',
      );
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: adminPassword }),
      });
      admin = ((await login.json()) as { access_token: string }).access_token;
      expect(await count('/api/v1/patients')).toBe(40);
      expect(await count('/api/v1/staff')).toBe(8);
    },
    START_MS,
  );
});
