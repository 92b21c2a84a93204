import type { Claim, ClaimPaid, Invoice } from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLAIMS,
  INVOICES,
  counts,
  expectStatus,
  getInvoice,
  issued,
  drafted,
  pay,
  post,
  register,
  unbalanced,
  useWorld,
  type World,
} from './helpers.js';

/** Insurance claims: amounts against the invoice, adjudication, payment, resubmission, history, events. */
const world = useWorld();
let w: World;
let insured: { id: string };
let memberId: string;

beforeAll(async () => {
  w = world();
  memberId = `M-${Date.now()}`;
  insured = await register(w, { insurance: { payer: 'Acme Health', memberId, groupNumber: 'G-7' } });
});

const claim = (body: Record<string, unknown>) =>
  expectStatus(post<Claim>(w, CLAIMS, w.tokens.billing, { currency: 'USD', ...body }), 201);
const step = (id: string, action: string, body?: unknown) =>
  post<Claim>(w, `${CLAIMS}/${id}/${action}`, w.tokens.billing, body);

describe('a claim from draft to paid', () => {
  it("is drafted for the patient's insurer, submitted, approved for less, paid into the invoice; the rest stays the patient's", async () => {
    const inv = await issued(w, insured.id); // 120.00
    const c = await claim({ invoiceId: inv.id, amount: 10_000 });
    expect(c).toMatchObject({
      status: 'draft',
      payer: 'Acme Health',
      memberId,
      groupNumber: 'G-7',
      patientId: insured.id,
      amount: 10_000,
      version: 1,
    });
    const submitted = await expectStatus(step(c.id, 'submit'), 200);
    expect(submitted).toMatchObject({ status: 'submitted', version: 2 });
    const approved = await expectStatus(step(c.id, 'approve', { approvedAmount: 8_000 }), 200);
    expect(approved).toMatchObject({ status: 'approved', approvedAmount: 8_000, version: 3 });
    const paid = await expectStatus(post<ClaimPaid>(w, `${CLAIMS}/${c.id}/pay`, w.tokens.billing), 200);
    expect(paid.claim).toMatchObject({
      status: 'paid',
      paidAmount: 8_000,
      paymentId: paid.payment.id,
      version: 4,
    });
    expect(paid.payment).toMatchObject({
      amount: 8_000,
      method: 'insurance',
      reference: c.id,
      claimId: c.id,
    });
    expect(paid.invoice).toMatchObject({ status: 'issued', paid: 8_000, balance: 4_000 });
    expect(paid.claim.history.map((h) => [h.action, h.amount ?? null])).toEqual([
      ['created', 10_000],
      ['submitted', 10_000],
      ['approved', 8_000],
      ['paid', 8_000],
    ]);

    // the events, each with the claim's version after its change
    const types = (await outboxRows(w.billing.db, { subject: c.id })).map((r) => [
      r.type,
      (r.envelope.data.claim as Claim).version,
    ]);
    expect(types).toEqual([
      ['billing.claim-submitted.v1', 2],
      ['billing.claim-approved.v1', 3],
      ['billing.claim-paid.v1', 4],
    ]);
    const recorded = await outboxRows(w.billing.db, { type: 'billing.payment-recorded.v1', subject: inv.id });
    expect(recorded.map((r) => (r.envelope.data.payment as { claimId?: string }).claimId)).toEqual([c.id]);
  });
});

describe('a denial', () => {
  it('needs a reason, leaves the invoice owed, and the denied claim is resubmitted once as a new claim linked to it', async () => {
    const inv = await issued(w, insured.id);
    const c = await claim({ invoiceId: inv.id, amount: 12_000 });
    await expectStatus(step(c.id, 'submit'), 200);
    expect(expectValidationErrors(await step(c.id, 'deny', { reason: '   ' })).map((e) => e.path)).toEqual([
      '/body/reason',
    ]);
    expect(expectValidationErrors(await step(c.id, 'deny', {})).length).toBeGreaterThan(0);
    const denied = await expectStatus(
      step(c.id, 'deny', { reason: 'not covered by the plan', code: 'CO-50' }),
      200,
    );
    expect(denied).toMatchObject({
      status: 'denied',
      denialReason: 'not covered by the plan',
      denialCode: 'CO-50',
    });

    // a denial is not a write-off: the invoice still owes all of it
    expect(await getInvoice(w, inv.id)).toMatchObject({
      status: 'issued',
      balance: 12_000,
      adjusted: 0,
      paid: 0,
    });

    const again = await claim({ invoiceId: inv.id, amount: 12_000, resubmissionOf: c.id });
    expect(again).toMatchObject({ status: 'draft', resubmissionOf: c.id });
    expect(
      (
        await expectStatus(
          w.billing.request<Claim>('GET', `${CLAIMS}/${c.id}`, { token: w.tokens.billing }),
          200,
        )
      ).resubmittedAs,
    ).toBe(again.id);
    const twice = expectProblem(
      await post(w, CLAIMS, w.tokens.billing, {
        invoiceId: inv.id,
        amount: 1,
        currency: 'USD',
        resubmissionOf: c.id,
      }),
      409,
    );
    expect(twice).toMatchObject({ code: 'not_resubmittable', existingId: again.id });
    const notDenied = expectProblem(
      await post(w, CLAIMS, w.tokens.billing, {
        invoiceId: inv.id,
        amount: 1,
        currency: 'USD',
        resubmissionOf: again.id,
      }),
      409,
    );
    expect(notDenied.code).toBe('not_resubmittable');
  });
});

describe('amounts', () => {
  it("never claims more than the invoice's balance less its other open claims, at create and at submit", async () => {
    const inv = await issued(w, insured.id); // 120.00
    await expectStatus(pay(w, inv.id, 2_000), 201); // 100.00 left
    const before = await counts(w.billing);
    const tooMuch = expectProblem(
      await post(w, CLAIMS, w.tokens.billing, { invoiceId: inv.id, amount: 10_001, currency: 'USD' }),
      409,
    );
    expect(tooMuch).toMatchObject({ code: 'exceeds_claimable', claimable: 10_000 });
    expect(await counts(w.billing)).toEqual(before);

    const a = await claim({ invoiceId: inv.id, amount: 6_000 });
    const b = await claim({ invoiceId: inv.id, amount: 6_000 }); // drafts hold nothing until submitted
    await expectStatus(step(a.id, 'submit'), 200);
    const late = expectProblem(await step(b.id, 'submit'), 409);
    expect(late).toMatchObject({ code: 'exceeds_claimable', claimable: 4_000 });
    expect(
      (
        await expectStatus(
          w.billing.request<Claim>('GET', `${CLAIMS}/${b.id}`, { token: w.tokens.billing }),
          200,
        )
      ).status,
    ).toBe('draft');
    expect(
      expectProblem(
        await post(w, CLAIMS, w.tokens.billing, { invoiceId: inv.id, amount: 4_001, currency: 'USD' }),
        409,
      ).code,
    ).toBe('exceeds_claimable');
    // approved for less, it holds only what was approved
    await expectStatus(step(a.id, 'approve', { approvedAmount: 5_000 }), 200);
    await claim({ invoiceId: inv.id, amount: 5_000 });
  });

  it('approves at most the amount claimed', async () => {
    const inv = await issued(w, insured.id);
    const c = await claim({ invoiceId: inv.id, amount: 5_000 });
    await expectStatus(step(c.id, 'submit'), 200);
    const before = await counts(w.billing);
    expect(
      expectValidationErrors(await step(c.id, 'approve', { approvedAmount: 5_001 })).map((e) => e.path),
    ).toEqual(['/body/approvedAmount']);
    expect(await counts(w.billing)).toEqual(before);
  });

  it("refuses paying a claim beyond the invoice's balance, changing nothing", async () => {
    const inv = await issued(w, insured.id);
    const c = await claim({ invoiceId: inv.id, amount: 10_000 });
    await expectStatus(step(c.id, 'submit'), 200);
    await expectStatus(step(c.id, 'approve', { approvedAmount: 10_000 }), 200);
    await expectStatus(pay(w, inv.id, 5_000), 201); // the patient paid meanwhile: 70.00 left
    const before = await counts(w.billing);
    const over = expectProblem(await post(w, `${CLAIMS}/${c.id}/pay`, w.tokens.billing), 409);
    expect(over).toMatchObject({ code: 'exceeds_balance', balance: 7_000 });
    expect(await counts(w.billing)).toEqual(before);
  });

  it('claims in the invoice’s currency only, on issued invoices only', async () => {
    const inv = await issued(w, insured.id);
    const eur = expectProblem(
      await post(w, CLAIMS, w.tokens.billing, { invoiceId: inv.id, amount: 100, currency: 'EUR' }),
      409,
    );
    expect(eur.code).toBe('currency_mismatch');
    const d = await drafted(w, insured.id);
    expect(
      expectProblem(
        await post(w, CLAIMS, w.tokens.billing, { invoiceId: d.id, amount: 100, currency: 'USD' }),
        409,
      ).code,
    ).toBe('invoice_not_open');
    const unknown = await post(w, CLAIMS, w.tokens.billing, {
      invoiceId: '00000000-0000-7000-8000-000000000000',
      amount: 100,
      currency: 'USD',
    });
    expect(expectValidationErrors(unknown).map((e) => e.path)).toEqual(['/body/invoiceId']);
  });

  it('asks for the payer and member id when the patient has no insurance on record', async () => {
    const uninsured = await register(w, { insurance: undefined });
    const inv = await issued(w, uninsured.id);
    const res = await post(w, CLAIMS, w.tokens.billing, { invoiceId: inv.id, amount: 100, currency: 'USD' });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/body/memberId', '/body/payer']);
    const named = await claim({ invoiceId: inv.id, amount: 100, payer: 'Other Mutual', memberId: 'X-1' });
    expect(named).toMatchObject({ payer: 'Other Mutual', memberId: 'X-1' });
  });
});

describe('illegal transitions', () => {
  it('answers 409 for every step its status does not allow', async () => {
    const inv = await issued(w, insured.id);
    const c = await claim({ invoiceId: inv.id, amount: 1_000 });
    const refused = async (action: string, body?: unknown) => {
      const p = expectProblem(await step(c.id, action, body), 409, action);
      expect(p.code).toBe('invalid_transition');
    };
    await refused('approve', { approvedAmount: 1 });
    await refused('deny', { reason: 'x' });
    await refused('pay');
    await expectStatus(step(c.id, 'submit'), 200);
    await refused('submit');
    await refused('pay');
    await expectStatus(step(c.id, 'approve', { approvedAmount: 1_000 }), 200);
    await refused('submit');
    await refused('approve', { approvedAmount: 1 });
    await refused('deny', { reason: 'x' });
    await expectStatus(post(w, `${CLAIMS}/${c.id}/pay`, w.tokens.billing), 200);
    for (const a of ['submit', 'pay']) await refused(a);
    await refused('approve', { approvedAmount: 1 });
    await refused('deny', { reason: 'x' });
  });

  it('leaves a claim on a voided invoice unsubmittable but still open to adjudication', async () => {
    const inv = await issued(w, insured.id);
    const draftClaim = await claim({ invoiceId: inv.id, amount: 1_000 });
    const sent = await claim({ invoiceId: inv.id, amount: 1_000 });
    await expectStatus(step(sent.id, 'submit'), 200);
    await expectStatus(
      post<Invoice>(w, `${INVOICES}/${inv.id}/void`, w.tokens.billing, { reason: 'billed in error' }),
      200,
    );
    expect(expectProblem(await step(draftClaim.id, 'submit'), 409).code).toBe('invoice_not_open');
    await expectStatus(step(sent.id, 'deny', { reason: 'invoice withdrawn' }), 200);
  });

  it('keeps every invoice’s kept sums equal to its lines and ledger', async () => {
    expect(await unbalanced(w.billing)).toEqual([]);
  });
});
