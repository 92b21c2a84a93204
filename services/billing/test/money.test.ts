import type { Invoice, PaymentRecorded } from '@hms/contracts';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FEES,
  INVOICES,
  counts,
  drafted,
  expectStatus,
  getInvoice,
  issued,
  line,
  pay,
  post,
  register,
  unbalanced,
  useWorld,
  type World,
} from './helpers.js';

/** Money on an invoice: totals, partial payments, overpayment, void, adjustments, currencies, bad input. */
const world = useWorld();
let w: World;
let patientId: string;

beforeAll(async () => {
  w = world();
  patientId = (await register(w)).id;
});

describe('totals', () => {
  it('computes the total from the lines, never from the client, and numbers the invoice', async () => {
    const inv = await drafted(w, patientId, {
      lines: [
        line({ quantity: 1, unitPrice: 12_000 }),
        line({ code: '85025', description: 'Complete blood count', quantity: 2, unitPrice: 1_999 }),
        line({ code: '99999', description: 'Dressing', quantity: 3, unitPrice: 0 }),
      ],
    });
    expect(inv).toMatchObject({
      status: 'draft',
      currency: 'USD',
      total: 15_998,
      paid: 0,
      adjusted: 0,
      balance: 15_998,
      needsPricing: false,
      refundDue: 0,
    });
    expect(inv.lines.map((l) => [l.line, l.amount, l.adjusted])).toEqual([
      [1, 12_000, 0],
      [2, 3_998, 0],
      [3, 0, 0],
    ]);
    expect(inv.number).toMatch(new RegExp(`^INV-${new Date().getUTCFullYear()}-\\d{6}$`));
    const next = await drafted(w, patientId);
    expect(Number(next.number.slice(-6))).toBe(Number(inv.number.slice(-6)) + 1);

    const before = await counts(w.billing);
    const sentTotal = await post(w, INVOICES, w.tokens.billing, { patientId, lines: [line()], total: 1 });
    expect(expectValidationErrors(sentTotal).length).toBeGreaterThan(0);
    expect(await counts(w.billing)).toEqual(before);
  });

  it('issues a draft with its due date after the payment terms, and publishes nothing for a draft', async () => {
    const inv = await issued(w, patientId);
    expect(inv.status).toBe('issued');
    expect(inv.issuedAt).toBeTruthy();
    const due = new Date(Date.parse(inv.issuedAt as string) + 30 * 86_400_000).toISOString().slice(0, 10);
    expect(inv.dueAt).toBe(due);
    const again = await post(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing);
    expect(expectProblem(again, 409).code).toBe('invalid_transition');
  });
});

describe('payments', () => {
  it('takes partial payments, traceable one by one, until the balance is 0, then the invoice is paid', async () => {
    const inv = await issued(w, patientId); // 120.00
    const first = await expectStatus(pay(w, inv.id, 5_000), 201);
    expect(first.invoice).toMatchObject({ status: 'issued', paid: 5_000, balance: 7_000 });
    expect(first.payment).toMatchObject({
      amount: 5_000,
      currency: 'USD',
      method: 'card',
      invoiceId: inv.id,
    });
    const second = await expectStatus(
      post<PaymentRecorded>(w, `${INVOICES}/${inv.id}/payments`, w.tokens.desk, {
        amount: 3_000,
        currency: 'USD',
        method: 'cash',
        reference: 'desk receipt 17',
      }),
      201,
    );
    expect(second.invoice).toMatchObject({ status: 'issued', paid: 8_000, balance: 4_000 });
    const last = await expectStatus(pay(w, inv.id, 4_000), 201);
    expect(last.invoice).toMatchObject({ status: 'paid', paid: 12_000, balance: 0 });
    const read = await getInvoice(w, inv.id);
    expect(read.payments.map((p) => [p.amount, p.method, p.reference ?? null])).toEqual([
      [5_000, 'card', null],
      [3_000, 'cash', 'desk receipt 17'],
      [4_000, 'card', null],
    ]);
    expect(expectProblem(await pay(w, inv.id, 1), 409).code).toBe('invoice_not_open');
  });

  it('refuses a payment above the balance (409 naming the balance), changing nothing', async () => {
    const inv = await issued(w, patientId);
    await expectStatus(pay(w, inv.id, 9_000), 201);
    const before = await counts(w.billing);
    const over = expectProblem(await pay(w, inv.id, 3_001), 409);
    expect(over).toMatchObject({ code: 'exceeds_balance', balance: 3_000, currency: 'USD' });
    expect(await counts(w.billing)).toEqual(before);
    expect((await getInvoice(w, inv.id)).balance).toBe(3_000);
  });

  it('takes no payment on a draft', async () => {
    const inv = await drafted(w, patientId);
    expect(expectProblem(await pay(w, inv.id, 100), 409).code).toBe('invoice_not_open');
  });

  it('refuses a payment in another currency than the invoice’s', async () => {
    const inv = await issued(w, patientId);
    const before = await counts(w.billing);
    const res = expectProblem(await pay(w, inv.id, 100, undefined, 'EUR'), 409);
    expect(res).toMatchObject({ code: 'currency_mismatch', invoiceCurrency: 'USD' });
    expect(await counts(w.billing)).toEqual(before);
  });

  it('bills in the currency asked for, and refuses a currency the runtime does not know', async () => {
    const yen = await drafted(w, patientId, { currency: 'JPY', lines: [line({ unitPrice: 5_000 })] });
    expect(yen).toMatchObject({ currency: 'JPY', total: 5_000 });
    const before = await counts(w.billing);
    const bad = await post(w, INVOICES, w.tokens.billing, { patientId, currency: 'ZZZ', lines: [line()] });
    expect(expectValidationErrors(bad).map((e) => e.path)).toEqual(['/body/currency']);
    expect(await counts(w.billing)).toEqual(before);
  });
});

describe('void', () => {
  it('voids a draft or an unpaid issued invoice with a reason, and refuses once a payment exists', async () => {
    const d = await drafted(w, patientId);
    const voided = await expectStatus(
      post<Invoice>(w, `${INVOICES}/${d.id}/void`, w.tokens.billing, { reason: 'entered twice' }),
      200,
    );
    expect(voided).toMatchObject({ status: 'void', voidReason: 'entered twice' });

    const paidPart = await issued(w, patientId);
    await expectStatus(pay(w, paidPart.id, 100), 201);
    const before = await counts(w.billing);
    const refused = expectProblem(
      await post(w, `${INVOICES}/${paidPart.id}/void`, w.tokens.billing, { reason: 'x' }),
      409,
    );
    expect(refused.code).toBe('invoice_has_payments');
    expect(await counts(w.billing)).toEqual(before);
    expect((await getInvoice(w, paidPart.id)).status).toBe('issued');
  });
});

describe('adjustments', () => {
  it('adjusts one line with its own reason, never beyond the line, and settles the invoice when nothing is owed', async () => {
    const inv = await issued(w, patientId, {
      lines: [line({ unitPrice: 10_000 }), line({ code: '85025', description: 'CBC', unitPrice: 2_000 })],
    });
    const adjusted = await expectStatus(
      post<Invoice>(w, `${INVOICES}/${inv.id}/adjustments`, w.tokens.billing, {
        amount: 1_500,
        currency: 'USD',
        reason: 'contractual',
        line: 2,
      }),
      201,
    );
    expect(adjusted).toMatchObject({ total: 12_000, adjusted: 1_500, balance: 10_500, status: 'issued' });
    expect(adjusted.lines.map((l) => l.adjusted)).toEqual([0, 1_500]);
    expect(adjusted.adjustments).toEqual([
      expect.objectContaining({ line: 2, amount: 1_500, reason: 'contractual', currency: 'USD' }),
    ]);

    const beyondLine = expectProblem(
      await post(w, `${INVOICES}/${inv.id}/adjustments`, w.tokens.billing, {
        amount: 501,
        currency: 'USD',
        reason: 'courtesy',
        line: 2,
      }),
      409,
    );
    expect(beyondLine).toMatchObject({ code: 'exceeds_line', line: 2, left: 500 });
    const noLine = await post(w, `${INVOICES}/${inv.id}/adjustments`, w.tokens.billing, {
      amount: 1,
      currency: 'USD',
      reason: 'courtesy',
      line: 3,
    });
    expect(expectValidationErrors(noLine).map((e) => e.path)).toEqual(['/body/line']);

    const rest = await expectStatus(
      post<Invoice>(w, `${INVOICES}/${inv.id}/adjustments`, w.tokens.billing, {
        amount: 10_500,
        currency: 'USD',
        reason: 'write-off',
        note: 'hardship',
      }),
      201,
    );
    expect(rest).toMatchObject({ status: 'paid', balance: 0, adjusted: 12_000, paid: 0 });
  });
});

describe('bad input', () => {
  it('answers 400 listing each bad field (negative quantity, fractional amount, unknown currency, zero payment) and changes nothing', async () => {
    const inv = await issued(w, patientId);
    const before = await counts(w.billing);
    const badInvoice = await post(w, INVOICES, w.tokens.billing, {
      patientId,
      currency: 'usd',
      lines: [line({ quantity: -1 }), line({ unitPrice: 12.5 })],
    });
    expect(expectValidationErrors(badInvoice).map((e) => e.path)).toEqual(
      expect.arrayContaining(['/body/currency', '/body/lines/0/quantity', '/body/lines/1/unitPrice']),
    );
    const zero = await post(w, `${INVOICES}/${inv.id}/payments`, w.tokens.desk, {
      amount: 0,
      currency: 'USD',
      method: 'cash',
    });
    expect(expectValidationErrors(zero).map((e) => e.path)).toEqual(['/body/amount']);
    const fraction = await post(w, `${INVOICES}/${inv.id}/payments`, w.tokens.desk, {
      amount: 10.5,
      currency: 'dollars',
      method: 'cash',
    });
    expect(expectValidationErrors(fraction).map((e) => e.path)).toEqual(['/body/amount', '/body/currency']);
    // well-formed but not ISO 4217: the same 400, from the runtime's list of currencies
    const unknown = await post(w, `${INVOICES}/${inv.id}/payments`, w.tokens.desk, {
      amount: 100,
      currency: 'XYZ',
      method: 'cash',
    });
    expect(expectValidationErrors(unknown).map((e) => e.path)).toEqual(['/body/currency']);
    expect(await counts(w.billing)).toEqual(before);
  });

  it('keeps every invoice’s kept sums equal to its lines and ledger', async () => {
    expect(await unbalanced(w.billing)).toEqual([]);
  });
});

describe('the fee schedule', () => {
  it('creates an entry (201), replaces it only with If-Match (428 without, 412 stale), lists and removes it', async () => {
    const code = `x-ray-${Date.now().toString(36)}`;
    const put = (body: unknown, headers: Record<string, string> = {}) =>
      w.billing.request<{ version: number; unitPrice: number; currency: string }>('PUT', `${FEES}/${code}`, {
        token: w.tokens.billing,
        body,
        headers,
      });
    const created = await expectStatus(put({ description: 'Chest X-ray', unitPrice: 8_000 }), 201);
    expect(created).toMatchObject({ version: 1, unitPrice: 8_000, currency: 'USD' });
    expect(expectProblem(await put({ description: 'Chest X-ray', unitPrice: 9_000 }), 428).code).toBe(
      'precondition_required',
    );
    expect((await put({ description: 'Chest X-ray', unitPrice: 9_000 }, { 'if-match': '"v7"' })).status).toBe(
      412,
    );
    const replaced = await expectStatus(
      put({ description: 'Chest X-ray', unitPrice: 9_000, currency: 'EUR' }, { 'if-match': '"v1"' }),
      200,
    );
    expect(replaced).toMatchObject({ version: 2, unitPrice: 9_000, currency: 'EUR' });
    expect(
      expectValidationErrors(await put({ description: ' ', unitPrice: -1, currency: 'XYZ' })).map(
        (e) => e.path,
      ),
    ).toEqual(['/body/unitPrice']);
    expect(
      expectValidationErrors(
        await put({ description: ' ', unitPrice: 1, currency: 'XYZ' }, { 'if-match': '"v2"' }),
      ).map((e) => e.path),
    ).toEqual(['/body/currency', '/body/description']);
    const { items } = await readAllPages<{ code: string }>(w.billing, FEES, w.tokens.billing);
    expect(items.map((f) => f.code)).toContain(code);
    expect((await w.billing.request('DELETE', `${FEES}/${code}`, { token: w.tokens.billing })).status).toBe(
      204,
    );
    expect(
      expectProblem(await w.billing.request('GET', `${FEES}/${code}`, { token: w.tokens.billing }), 404).code,
    ).toBe('fee_not_found');
  });
});

describe('lists', () => {
  it('filters invoices by patient, status and creation time, page by page', async () => {
    const other = (await register(w)).id;
    const from = new Date().toISOString();
    const a = await drafted(w, other);
    const b = await issued(w, other);
    const all = await readAllPages<Invoice>(w.billing, INVOICES, w.tokens.billing, {
      patientId: other,
      limit: 1,
    });
    expect(all.items.map((i) => i.id)).toEqual([a.id, b.id]);
    expect(all.pages).toBe(2);
    const drafts = await readAllPages<Invoice>(w.billing, INVOICES, w.tokens.billing, {
      patientId: other,
      status: 'draft',
    });
    expect(drafts.items.map((i) => i.id)).toEqual([a.id]);
    const since = await readAllPages<Invoice>(w.billing, INVOICES, w.tokens.billing, { from });
    expect(since.items.map((i) => i.id)).toEqual([a.id, b.id]);
    const before = await readAllPages<Invoice>(w.billing, INVOICES, w.tokens.billing, {
      patientId: other,
      to: from,
    });
    expect(before.items).toEqual([]);
    const backwards = await w.billing.request('GET', `${INVOICES}?from=${from}&to=${from}`, {
      token: w.tokens.billing,
    });
    expect(expectValidationErrors(backwards).map((e) => e.path)).toEqual(['/querystring/to']);
  });
});
