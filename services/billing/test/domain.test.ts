import { describe, expect, it } from 'vitest';
import { addDays, facilityDate } from '../src/domain/calendar.js';
import { claimable, claimTransition, heldAmount, type ClaimAction } from '../src/domain/claim.js';
import { cancellationEffect, invoiceTransition, type InvoiceAction } from '../src/domain/invoice.js';
import { invoiceNumber, isCurrency, perCurrency, pricedLines, totalsOf } from '../src/domain/money.js';

/**
 * The pure rules, without a database. The state machines' expected tables are written out here
 * by hand, every status × every action: what is not listed as legal must be refused.
 */

describe('the invoice state machine', () => {
  // [from, action, balance after, expected status or null when refused]
  const table: [string, InvoiceAction, number, string | null][] = [
    ['draft', 'edit', 100, 'draft'],
    ['draft', 'issue', 100, 'issued'],
    ['draft', 'issue', 0, 'paid'],
    ['draft', 'void', 100, 'void'],
    ['draft', 'collect', 50, null],
    ['issued', 'edit', 100, null],
    ['issued', 'issue', 100, null],
    ['issued', 'void', 100, 'void'],
    ['issued', 'collect', 50, 'issued'],
    ['issued', 'collect', 0, 'paid'],
    ['paid', 'edit', 0, null],
    ['paid', 'issue', 0, null],
    ['paid', 'void', 0, null],
    ['paid', 'collect', 0, null],
    ['void', 'edit', 100, null],
    ['void', 'issue', 100, null],
    ['void', 'void', 100, null],
    ['void', 'collect', 100, null],
  ];
  it.each(table)('%s --%s (balance after %i)--> %s', (from, action, balance, expected) => {
    expect(invoiceTransition(from as never, action, balance) ?? null).toBe(expected);
  });

  it('covers every status and action', () => {
    const pairs = new Set(table.map(([s, a]) => `${s}/${a}`));
    for (const s of ['draft', 'issued', 'paid', 'void'])
      for (const a of ['edit', 'issue', 'void', 'collect'])
        expect(pairs.has(`${s}/${a}`), `${s}/${a}`).toBe(true);
  });
});

describe('the claim state machine', () => {
  const legal: Record<string, Partial<Record<ClaimAction, string>>> = {
    draft: { submit: 'submitted' },
    submitted: { approve: 'approved', deny: 'denied' },
    approved: { pay: 'paid' },
    denied: {},
    paid: {},
  };
  const rows = Object.entries(legal).flatMap(([from, next]) =>
    (['submit', 'approve', 'deny', 'pay'] as const).map((a) => [from, a, next[a] ?? null] as const),
  );
  it.each(rows)('%s --%s--> %s', (from, action, expected) => {
    expect(claimTransition(from as never, action) ?? null).toBe(expected);
  });
});

describe('what a claim holds of its invoice', () => {
  it('holds the claimed amount once submitted, the approved amount once approved, nothing otherwise', () => {
    expect(heldAmount({ status: 'draft', amount: 500 })).toBe(0);
    expect(heldAmount({ status: 'submitted', amount: 500 })).toBe(500);
    expect(heldAmount({ status: 'approved', amount: 500, approvedAmount: 300 })).toBe(300);
    expect(heldAmount({ status: 'denied', amount: 500 })).toBe(0);
    expect(heldAmount({ status: 'paid', amount: 500, approvedAmount: 300 })).toBe(0);
  });

  it('leaves the balance less the other open claims to claim, never below 0', () => {
    expect(claimable(1_000, [])).toBe(1_000);
    expect(
      claimable(1_000, [
        { status: 'submitted', amount: 400 },
        { status: 'approved', amount: 500, approvedAmount: 250 },
        { status: 'denied', amount: 900 },
      ]),
    ).toBe(350);
    expect(claimable(100, [{ status: 'submitted', amount: 400 }])).toBe(0);
  });
});

describe('what an appointment’s cancellation does to its invoice', () => {
  it('voids a draft, adjusts an issued invoice by its balance and flags what was paid, leaves a void one', () => {
    expect(cancellationEffect({ status: 'draft', balance: 100, paid: 0 })).toEqual({ kind: 'void' });
    expect(cancellationEffect({ status: 'issued', balance: 70, paid: 30 })).toEqual({
      kind: 'adjust',
      amount: 70,
      refundDue: 30,
    });
    expect(cancellationEffect({ status: 'paid', balance: 0, paid: 100 })).toEqual({
      kind: 'refund',
      refundDue: 100,
    });
    expect(cancellationEffect({ status: 'paid', balance: 0, paid: 0 })).toEqual({ kind: 'none' });
    expect(cancellationEffect({ status: 'void', balance: 100, paid: 0 })).toEqual({ kind: 'none' });
  });
});

describe('money', () => {
  it('sums the lines into the total and the ledger into the balance', () => {
    const lines = [
      { line: 1, code: 'a', description: 'A', quantity: 2, unitPrice: 1_250 },
      { line: 2, code: 'b', description: 'B', quantity: 1, unitPrice: 999 },
    ];
    expect(totalsOf(lines, [{ amount: 1_000 }, { amount: 499 }], [{ amount: 250 }])).toEqual({
      total: 3_499,
      paid: 1_499,
      adjusted: 250,
      balance: 1_750,
    });
    expect(
      pricedLines(lines, [{ line: 2, amount: 100 }, { amount: 5 }]).map((l) => [l.amount, l.adjusted]),
    ).toEqual([
      [2_500, 0],
      [999, 100],
    ]);
  });

  it('knows ISO 4217 codes from the runtime’s list', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('JPY')).toBe(true);
    expect(isCurrency('XYZ')).toBe(false);
    expect(isCurrency('usd')).toBe(false);
  });

  it('sums amounts per currency, in currency order, leaving out zeros', () => {
    expect(
      perCurrency([
        { currency: 'USD', amount: 100 },
        { currency: 'EUR', amount: 5 },
        { currency: 'USD', amount: 50 },
        { currency: 'GBP', amount: 0 },
      ]),
    ).toEqual([
      { currency: 'EUR', amount: 5 },
      { currency: 'USD', amount: 150 },
    ]);
  });

  it('numbers invoices INV-<year>-<six digits>', () => {
    expect(invoiceNumber(2026, 42)).toBe('INV-2026-000042');
    expect(invoiceNumber(2027, 1_234_567)).toBe('INV-2027-1234567');
  });
});

describe('the facility calendar', () => {
  it('takes the date in the facility’s zone and adds days across month and year ends', () => {
    // 23:30 UTC on 31 December is already 1 January in Berlin
    expect(facilityDate(new Date('2026-12-31T23:30:00Z'), 'Europe/Berlin')).toBe('2027-01-01');
    expect(facilityDate(new Date('2026-12-31T23:30:00Z'), 'UTC')).toBe('2026-12-31');
    expect(addDays('2026-12-15', 30)).toBe('2027-01-14');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
});
