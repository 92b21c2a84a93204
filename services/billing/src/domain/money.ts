import type { InvoiceAdjustment, InvoiceLine, InvoiceLineInput, MoneyAmount, Payment } from '@hms/contracts';

/**
 * Money rules (DOMAIN.md "Billing & Claims"): amounts are integers of a currency's minor units,
 * one currency per invoice, and what is owed is summed from the ledger, never kept as a figure a
 * client sent. Pure: no I/O, unit tested.
 */

const KNOWN = new Set(Intl.supportedValuesOf('currency'));

/** Whether `code` is an ISO 4217 currency this runtime knows (its list is the standard's). */
export function isCurrency(code: string): boolean {
  return KNOWN.has(code);
}

/** One line as stored: what it bills and the adjustments that name it. */
export interface StoredLine extends InvoiceLineInput {
  line: number;
}

export interface Totals {
  total: number;
  paid: number;
  adjusted: number;
  balance: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** A line's amount: quantity × unit price. */
export const lineAmount = (l: Pick<InvoiceLineInput, 'quantity' | 'unitPrice'>) => l.quantity * l.unitPrice;

/** The lines as answered: each with its amount and what adjustments took off it. */
export function pricedLines(
  lines: readonly StoredLine[],
  adjustments: readonly Pick<InvoiceAdjustment, 'line' | 'amount'>[],
): InvoiceLine[] {
  return lines.map((l) => ({
    line: l.line,
    code: l.code,
    description: l.description,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    amount: lineAmount(l),
    adjusted: sum(adjustments.filter((a) => a.line === l.line).map((a) => a.amount)),
  }));
}

/** Total, payments, adjustments and balance, from the lines and the ledger. */
export function totalsOf(
  lines: readonly Pick<InvoiceLineInput, 'quantity' | 'unitPrice'>[],
  payments: readonly Pick<Payment, 'amount'>[],
  adjustments: readonly Pick<InvoiceAdjustment, 'amount'>[],
): Totals {
  const total = sum(lines.map(lineAmount));
  const paid = sum(payments.map((p) => p.amount));
  const adjusted = sum(adjustments.map((a) => a.amount));
  return { total, paid, adjusted, balance: total - paid - adjusted };
}

/** Amounts summed per currency, in currency order (an account's balances, its refunds due). */
export function perCurrency(amounts: readonly MoneyAmount[]): MoneyAmount[] {
  const by = new Map<string, number>();
  for (const a of amounts) if (a.amount > 0) by.set(a.currency, (by.get(a.currency) ?? 0) + a.amount);
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, amount]) => ({ currency, amount }));
}

/** An invoice's human-readable number: INV-<year>-<counter, six digits or more>. */
export function invoiceNumber(year: number, counter: number): string {
  return `INV-${year}-${String(counter).padStart(6, '0')}`;
}
