import type { Appointment, Claim, Invoice, PatientInput, PaymentRecorded, StaffInput } from '@hms/contracts';
import { appointmentService } from '@hms/appointment';
import { patientService } from '@hms/patient';
import type { Clock } from '@hms/platform';
import { staffService } from '@hms/staff';
import {
  createTestBus,
  createTestKeys,
  startService,
  type ApiResponse,
  type RunningService,
  type TestKeys,
} from '@hms/testkit';
import { postCreated, useStarted } from '@hms/testkit/vitest';
import { expect } from 'vitest';
import { billingService } from '../src/service.js';

export const INVOICES = '/api/v1/invoices';
export const CLAIMS = '/api/v1/claims';
export const FEES = '/api/v1/billing/fee-schedule';
export const ACCOUNTS = '/api/v1/billing/accounts';

/**
 * Patient and Billing on one bus with one set of keys (Billing opens accounts from Patient's
 * events and reads through to it on a miss); with `appointments`, Staff and Appointment too, so
 * that booking and cancelling drive Billing's consumers.
 */
export interface World {
  keys: TestKeys;
  patient: RunningService;
  billing: RunningService;
  staff?: RunningService;
  appointment?: RunningService;
  tokens: {
    /** billing: patients:read, billing:read|write|collect, claims:adjudicate */
    billing: string;
    /** receptionist: billing:read|collect (no billing:write), patients and appointments */
    desk: string;
    /** nurse: no billing permission */
    nurse: string;
    /** manager: staff:read|write */
    manager: string;
    admin: string;
  };
  close(): Promise<void>;
}

export async function startWorld(
  opts: { appointments?: boolean; billingEnv?: NodeJS.ProcessEnv; billingClock?: Clock } = {},
): Promise<World> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const common = { keys, bus: bus.bus };
  const patient = await startService(patientService, common);
  const staff = opts.appointments ? await startService(staffService, common) : undefined;
  const appointment = staff
    ? await startService(appointmentService, {
        ...common,
        env: { STAFF_URL: staff.url, PATIENT_URL: patient.url },
      })
    : undefined;
  const billing = await startService(billingService, {
    ...common,
    env: {
      PATIENT_URL: patient.url,
      ...(appointment ? { APPOINTMENT_URL: appointment.url } : {}),
      ...opts.billingEnv,
    },
    ...(opts.billingClock ? { clock: opts.billingClock } : {}),
  });
  return {
    keys,
    patient,
    billing,
    ...(staff ? { staff } : {}),
    ...(appointment ? { appointment } : {}),
    tokens: {
      billing: await keys.mint({ roles: ['billing'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
      nurse: await keys.mint({ roles: ['nurse'] }),
      manager: await keys.mint({ roles: ['manager'] }),
      admin: await keys.mint({ roles: ['admin'] }),
    },
    async close() {
      await billing.close();
      await appointment?.close();
      await staff?.close();
      await patient.close();
      await bus.close();
    },
  };
}

export const useWorld = (opts: Parameters<typeof startWorld>[0] = {}) =>
  useStarted(() => startWorld(opts), 90_000);

let n = 0;
export const unique = () => `${Date.now().toString(36)}${(n += 1)}`;

export function patientInput(overrides: Partial<PatientInput> = {}): PatientInput {
  return {
    givenName: 'Ada',
    familyName: `Lovelace${unique()}`,
    birthDate: '1985-12-10',
    sex: 'female',
    insurance: { payer: 'Acme Health', memberId: `M-${unique()}`, groupNumber: 'G-7' },
    ...overrides,
  };
}

/** Mondays to Fridays 08:00–18:00 in London. */
export function staffInput(overrides: Partial<StaffInput> = {}): StaffInput {
  return {
    givenName: 'Grace',
    familyName: `Hopper${unique()}`,
    role: 'physician',
    department: 'General practice',
    timezone: 'Europe/London',
    weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({
      day,
      start: '08:00',
      end: '18:00',
    })),
    ...overrides,
  };
}

export const register = (w: World, input: Partial<PatientInput> = {}) =>
  postCreated<{ id: string; version: number }>(
    w.patient,
    '/api/v1/patients?confirmDuplicate=true',
    w.tokens.desk,
    patientInput(input),
  );

/** One line: a 30-minute consultation at 120.00 unless told. */
export const line = (overrides: Record<string, unknown> = {}) => ({
  code: 'consult-30',
  description: 'Consultation, 30 minutes',
  quantity: 1,
  unitPrice: 12_000,
  ...overrides,
});

/** Drafts an invoice for the patient (201 or the test fails). */
export const drafted = (w: World, patientId: string, body: Record<string, unknown> = {}) =>
  postCreated<Invoice>(w.billing, INVOICES, w.tokens.billing, { patientId, lines: [line()], ...body });

/** A request to Billing that must answer `status`; answers the body. */
export async function expectStatus<T>(res: Promise<ApiResponse<T>>, status: number): Promise<T> {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

export const post = <T = Record<string, unknown>>(w: World, path: string, token: string, body?: unknown) =>
  w.billing.request<T & { code?: string }>('POST', path, { token, ...(body === undefined ? {} : { body }) });

/** Drafts and issues an invoice of the given lines. */
export async function issued(
  w: World,
  patientId: string,
  body: Record<string, unknown> = {},
): Promise<Invoice> {
  const inv = await drafted(w, patientId, body);
  return expectStatus(post<Invoice>(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing), 200);
}

export const pay = (w: World, id: string, amount: number, token?: string, currency = 'USD') =>
  post<PaymentRecorded>(w, `${INVOICES}/${id}/payments`, token ?? w.tokens.desk, {
    amount,
    currency,
    method: 'card',
  });

export const getInvoice = (w: World, id: string) =>
  expectStatus(w.billing.request<Invoice>('GET', `${INVOICES}/${id}`, { token: w.tokens.billing }), 200);

export const getClaim = (w: World, id: string) =>
  expectStatus(w.billing.request<Claim>('GET', `${CLAIMS}/${id}`, { token: w.tokens.billing }), 200);

/** What Billing's database holds: a refused request must change none of it. */
export async function counts(svc: RunningService) {
  const { rows } = await svc.db.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM invoices)::int AS invoices,
            (SELECT count(*) FROM invoice_lines)::int AS lines,
            (SELECT count(*) FROM payments)::int AS payments,
            (SELECT count(*) FROM adjustments)::int AS adjustments,
            (SELECT count(*) FROM claims)::int AS claims,
            (SELECT count(*) FROM claim_history)::int AS history,
            (SELECT count(*) FROM fee_schedule)::int AS fees,
            (SELECT coalesce(sum(version), 0)::int FROM invoices) AS invoice_versions,
            (SELECT coalesce(sum(version), 0)::int FROM claims) AS claim_versions,
            (SELECT count(*) FROM outbox)::int AS outbox`,
  );
  return rows[0] as Record<string, number>;
}

/**
 * Each invoice's kept columns (total, paid, adjusted, each line's adjusted) against sums of its
 * lines and ledger rows, by SQL: the rows that disagree (none, when the books balance).
 */
export async function unbalanced(svc: RunningService): Promise<unknown[]> {
  const { rows } = await svc.db.query(
    `SELECT i.id, i.total, i.paid, i.adjusted,
            (SELECT coalesce(sum(quantity * unit_price), 0) FROM invoice_lines l WHERE l.invoice_id = i.id)::bigint AS lines,
            (SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.invoice_id = i.id)::bigint AS payments,
            (SELECT coalesce(sum(amount), 0) FROM adjustments a WHERE a.invoice_id = i.id)::bigint AS adjustments
       FROM invoices i`,
  );
  const bad: unknown[] = rows.filter(
    (r) => r.total !== r.lines || r.paid !== r.payments || r.adjusted !== r.adjustments,
  );
  const { rows: lines } = await svc.db.query(
    `SELECT l.invoice_id, l.line, l.adjusted,
            (SELECT coalesce(sum(amount), 0) FROM adjustments a WHERE a.invoice_id = l.invoice_id AND a.line = l.line)::bigint AS sum
       FROM invoice_lines l`,
  );
  return [...bad, ...lines.filter((l) => l.adjusted !== l.sum)];
}

/** Waits until Billing's inbox holds every one of `ids` (each applied, once). */
export async function consumed(svc: RunningService, ids: readonly string[], ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(DISTINCT event_id)::int AS n FROM inbox WHERE consumer = $1 AND event_id = ANY ($2::uuid[])',
      ['billing', ids],
    );
    const got = rows[0]?.n ?? 0;
    if (got === new Set(ids).size) return;
    if (Date.now() > deadline) throw new Error(`${new Set(ids).size - got} events not consumed in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The invoices Billing holds for an appointment (GET /invoices?appointmentId=). */
export async function invoicesOf(w: World, appointmentId: string): Promise<Invoice[]> {
  const res = await w.billing.request<{ items: Invoice[] }>(
    'GET',
    `${INVOICES}?appointmentId=${appointmentId}`,
    {
      token: w.tokens.billing,
    },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
}

/** Waits for the appointment's one invoice to satisfy `ready` (default: to exist), and answers it. */
export async function invoiceOf(
  w: World,
  appointmentId: string,
  ready: (i: Invoice) => boolean = () => true,
): Promise<Invoice> {
  let found: Invoice | undefined;
  await expect
    .poll(
      async () => {
        const items = await invoicesOf(w, appointmentId);
        found = items[0];
        return items.length === 1 && ready(items[0] as Invoice);
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
  return found as Invoice;
}

let slots = 0;
/**
 * A fresh half-hour within every staff member's hours (weekdays 09:00–16:00 UTC, inside
 * 08:00–18:00 London in winter and summer), from next week on, never the same twice in a run.
 */
export function nextSlot(): { start: string; end: string } {
  const i = (slots += 1);
  const monday = new Date();
  monday.setUTCHours(0, 0, 0, 0);
  monday.setUTCDate(monday.getUTCDate() + ((8 - monday.getUTCDay()) % 7 || 7) + 7);
  const day = Math.floor(i / 14);
  const start = new Date(
    monday.getTime() + (Math.floor(day / 5) * 7 + (day % 5)) * 86_400_000 + (9 * 60 + (i % 14) * 30) * 60_000,
  );
  return { start: start.toISOString(), end: new Date(start.getTime() + 30 * 60_000).toISOString() };
}

/** An appointment type (unique code) at the Appointment service. */
export async function appointmentType(w: World): Promise<string> {
  const code = `consult-${unique()}`;
  await postCreated(w.appointment as RunningService, '/api/v1/appointments/types', w.tokens.desk, {
    code,
    name: 'Consultation',
    durationMin: 30,
  });
  return code;
}

/** Sets the fee schedule's price of an appointment type (201). */
export const price = (w: World, code: string, unitPrice: number, currency = 'USD') =>
  expectStatus(
    w.billing.request('PUT', `${FEES}/${code}`, {
      token: w.tokens.billing,
      body: { description: `Fee for ${code}`, unitPrice, currency },
    }),
    201,
  );

/** Books at the Appointment service (201 or the test fails). */
export const book = (w: World, body: { patientId: string; staffId: string; type: string }) =>
  postCreated<Appointment>(w.appointment as RunningService, '/api/v1/appointments', w.tokens.desk, {
    ...body,
    ...nextSlot(),
  });
