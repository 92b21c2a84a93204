import type { Appointment, BillingAccount, Invoice, Staff } from '@hms/contracts';
import { buildEnvelope, uuidv7 } from '@hms/platform';
import { outboxRows, type RunningService } from '@hms/testkit';
import { expectProblem, postCreated } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNTS,
  INVOICES,
  appointmentType,
  book,
  consumed,
  expectStatus,
  getInvoice,
  invoiceOf,
  invoicesOf,
  nextSlot,
  pay,
  post,
  price,
  register,
  staffInput,
  unbalanced,
  useWorld,
  type World,
} from './helpers.js';

/**
 * The revenue cycle driven by events, on real RabbitMQ (under CI): patients registered and
 * appointments booked, rescheduled and cancelled through their own services; Billing opens
 * accounts, drafts invoices priced from its fee schedule, keeps them across a reschedule and voids
 * or adjusts them on a cancellation. Every consumed event is applied once, also when delivered
 * again under its id, replayed under a new id, or arriving before an older one.
 */
const world = useWorld({ appointments: true });
let w: World;
let staff: Staff;
let type: string;

const appt = () => w.appointment as RunningService;

beforeAll(async () => {
  w = world();
  staff = await postCreated<Staff>(
    w.staff as RunningService,
    '/api/v1/staff',
    w.tokens.manager,
    staffInput(),
  );
  type = await appointmentType(w);
  await price(w, type, 15_000);
});

const account = (patientId: string) =>
  w.billing.request<BillingAccount>('GET', `${ACCOUNTS}/${patientId}`, { token: w.tokens.billing });

async function cancel(id: string): Promise<void> {
  await expectStatus(
    appt().request('POST', `/api/v1/appointments/${id}/cancel`, {
      token: w.tokens.desk,
      body: { reason: 'patient called' },
    }),
    200,
  );
}

/** The envelopes Appointment published about an appointment, oldest first. */
const published = async (id: string) => (await outboxRows(appt().db, { subject: id })).map((r) => r.envelope);

describe('accounts', () => {
  it('opens an account when a patient is registered and keeps their insurance current', async () => {
    const p = await register(w, {
      insurance: { payer: 'Acme Health', memberId: 'ACME-1', groupNumber: 'G-1' },
    });
    await expect
      .poll(async () => (await account(p.id)).body, { timeout: 15_000, interval: 50 })
      .toMatchObject({ patientId: p.id, payer: 'Acme Health', memberId: 'ACME-1', groupNumber: 'G-1' });
    const { rows } = await w.billing.db.query('SELECT data FROM local_copies WHERE id = $1', [p.id]);
    // only what billing needs of the patient: no name, no contact data
    expect(rows[0]?.data).toEqual({
      status: 'active',
      payer: 'Acme Health',
      memberId: 'ACME-1',
      groupNumber: 'G-1',
    });

    await expectStatus(
      w.patient.request('PATCH', `/api/v1/patients/${p.id}`, {
        token: w.tokens.desk,
        body: { insurance: { payer: 'Beta Mutual', memberId: 'B-77' } },
      }),
      200,
    );
    await expect
      .poll(async () => (await account(p.id)).body, { timeout: 15_000, interval: 50 })
      .toMatchObject({ payer: 'Beta Mutual', memberId: 'B-77', patientVersion: 2 });
    expect((await account(p.id)).body.groupNumber).toBeUndefined();
  });

  it('reads a patient it never heard of through to Patient, and answers 404 for no patient', async () => {
    const missing = await w.billing.request('GET', `${ACCOUNTS}/${uuidv7()}`, { token: w.tokens.billing });
    expect(expectProblem(missing, 404).code).toBe('account_not_found');
  });
});

describe('an appointment booked, rescheduled, cancelled', () => {
  it("drafts an invoice at the fee schedule's price, keeps it when rescheduled, and voids the draft when cancelled", async () => {
    const p = await register(w);
    const a = await book(w, { patientId: p.id, staffId: staff.id, type });
    const inv = await invoiceOf(w, a.id);
    expect(inv).toMatchObject({
      status: 'draft',
      patientId: p.id,
      appointmentId: a.id,
      currency: 'USD',
      total: 15_000,
      balance: 15_000,
      needsPricing: false,
      createdBy: 'svc:billing',
    });
    expect(inv.lines).toEqual([
      expect.objectContaining({ code: type, quantity: 1, unitPrice: 15_000, amount: 15_000 }),
    ]);

    const moved = await expectStatus(
      appt().request<Appointment>('POST', `/api/v1/appointments/${a.id}/reschedule`, {
        token: w.tokens.desk,
        body: { start: nextSlot().start },
      }),
      200,
    );
    const [updated] = (await published(a.id)).filter((e) => e.type === 'appointment.updated.v1');
    await consumed(w.billing, [updated?.id as string]);
    expect(moved.version).toBe(2);
    expect(await invoicesOf(w, a.id)).toEqual([inv]);

    await cancel(a.id);
    const voided = await invoiceOf(w, a.id, (i) => i.status === 'void');
    expect(voided).toMatchObject({ id: inv.id, voidReason: 'the appointment was cancelled', total: 15_000 });
  });

  it('drafts an unpriced appointment flagged for pricing, not as a zero invoice, and issues it once priced', async () => {
    const unpriced = await appointmentType(w);
    const p = await register(w);
    const a = await book(w, { patientId: p.id, staffId: staff.id, type: unpriced });
    const inv = await invoiceOf(w, a.id);
    expect(inv).toMatchObject({ status: 'draft', needsPricing: true, lines: [], total: 0 });
    const refused = expectProblem(await post(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing), 409);
    expect(refused.code).toBe('invoice_needs_pricing');

    const priced = await expectStatus(
      w.billing.request<Invoice>('PUT', `${INVOICES}/${inv.id}`, {
        token: w.tokens.billing,
        headers: { 'if-match': `"v${inv.version}"` },
        body: { lines: [{ code: unpriced, description: 'Consultation', quantity: 1, unitPrice: 9_000 }] },
      }),
      200,
    );
    expect(priced).toMatchObject({ needsPricing: false, total: 9_000, version: 2 });
    const out = await expectStatus(post<Invoice>(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing), 200);
    expect(out.status).toBe('issued');
    const generated = await outboxRows(w.billing.db, {
      type: 'billing.invoice-generated.v1',
      subject: inv.id,
    });
    expect(generated.map((g) => (g.envelope.data.invoice as Invoice).version)).toEqual([3]);
  });

  it('adjusts an issued invoice by what it still owes when cancelled, and flags the paid part for refund', async () => {
    const p = await register(w);
    const a = await book(w, { patientId: p.id, staffId: staff.id, type });
    const inv = await invoiceOf(w, a.id);
    await expectStatus(post(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing), 200);
    await expectStatus(pay(w, inv.id, 4_000), 201);
    await cancel(a.id);
    const after = await invoiceOf(w, a.id, (i) => i.status !== 'issued');
    expect(after).toMatchObject({
      status: 'paid',
      total: 15_000,
      paid: 4_000,
      adjusted: 11_000,
      balance: 0,
      refundDue: 4_000,
    });
    expect(after.adjustments).toEqual([expect.objectContaining({ amount: 11_000, reason: 'cancellation' })]);
    const acct = (await account(p.id)).body;
    expect(acct).toMatchObject({
      openInvoices: [],
      balances: [],
      refundsDue: [{ currency: 'USD', amount: 4_000 }],
    });
  });
});

describe('redelivery', () => {
  it('applies each event once: the same envelope again, a replay under a new id, and events arriving out of order', async () => {
    const p = await register(w);
    const a = await book(w, { patientId: p.id, staffId: staff.id, type });
    const inv = await invoiceOf(w, a.id);
    await expectStatus(post(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing), 200);
    await expectStatus(pay(w, inv.id, 1_000), 201);
    await cancel(a.id);
    const settled = await invoiceOf(w, a.id, (i) => i.status === 'paid');

    const [created, cancelled] = [
      ...(await published(a.id)).filter((e) => e.type === 'appointment.created.v1'),
      ...(await published(a.id)).filter((e) => e.type === 'appointment.cancelled.v1'),
    ];
    if (!created || !cancelled) throw new Error('Appointment published no created/cancelled event');
    const replayed = [
      { ...created, id: uuidv7() },
      { ...cancelled, id: uuidv7() },
    ];
    await w.billing.bus.publish([created, cancelled, created, ...replayed, cancelled]);
    await consumed(
      w.billing,
      replayed.map((e) => e.id),
    );
    expect(await invoicesOf(w, a.id)).toEqual([settled]);
    expect((await getInvoice(w, settled.id)).adjustments).toHaveLength(1);

    // an appointment whose cancellation (v2) arrives before its booking (v1): nothing is drafted
    const ghost: Appointment = {
      ...(created.data as { appointment: Appointment }).appointment,
      id: uuidv7(),
    };
    const late = buildEnvelope('appointment', {
      type: 'appointment.created.v1',
      subject: ghost.id,
      data: { appointment: ghost },
    });
    const early = buildEnvelope('appointment', {
      type: 'appointment.cancelled.v1',
      subject: ghost.id,
      data: { appointment: { ...ghost, status: 'cancelled', version: 2 }, scope: 'this' },
    });
    await w.billing.bus.publish([early]);
    await consumed(w.billing, [early.id]);
    await w.billing.bus.publish([late]);
    await consumed(w.billing, [late.id]);
    expect(await invoicesOf(w, ghost.id)).toEqual([]);

    // a reschedule (v2) before its booking (v1): the booking still drafts, once
    const other: Appointment = { ...ghost, id: uuidv7() };
    const moved = buildEnvelope('appointment', {
      type: 'appointment.updated.v1',
      subject: other.id,
      data: { appointment: { ...other, version: 2 }, change: 'rescheduled' },
    });
    const booked = buildEnvelope('appointment', {
      type: 'appointment.created.v1',
      subject: other.id,
      data: { appointment: other },
    });
    await w.billing.bus.publish([moved]);
    await consumed(w.billing, [moved.id]);
    await w.billing.bus.publish([booked, { ...booked, id: uuidv7() }]);
    await consumed(w.billing, [booked.id]);
    await invoiceOf(w, other.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(await invoicesOf(w, other.id)).toHaveLength(1);
  });

  it('keeps every invoice’s kept sums equal to its lines and ledger', async () => {
    expect(await unbalanced(w.billing)).toEqual([]);
  });
});
