import type {
  Invoice,
  InvoiceAdjustment,
  InvoiceAdjustmentInput,
  Payment,
  PaymentInput,
  PaymentRecorded,
} from '@hms/contracts';
import { appendToOutbox, authorize, invalid, uuidv7, type Caller, type Tx } from '@hms/platform';
import { SOURCE, type BillingContext } from './context.js';
import { BillingErrors } from './errors.js';
import { currencyProblem, lockFor } from './invoices.js';
import * as store from './store/invoices.js';

/**
 * An invoice's ledger: payments and adjustments, appended, never changed. Each is decided under
 * the invoice's row lock, against the balance summed from the ledger in that same transaction:
 * of two payments that together exceed the balance, the second to take the lock sees the first
 * and is refused (docs/adr/0014). The database's CHECKs refuse an overpayment even if this code
 * did not.
 */

function sameCurrency(invoice: Invoice, currency: string): void {
  if (currency !== invoice.currency)
    throw BillingErrors.currency_mismatch(
      `invoice ${invoice.number} is in ${invoice.currency}, the amount in ${currency}`,
      { extensions: { invoiceCurrency: invoice.currency } },
    );
}

function withinBalance(invoice: Invoice, amount: number): void {
  if (amount > invoice.balance)
    throw BillingErrors.exceeds_balance(
      `${amount} exceeds the balance of invoice ${invoice.number} (${invoice.balance} ${invoice.currency})`,
      { extensions: { balance: invoice.balance, currency: invoice.currency } },
    );
}

/**
 * Posts a payment on an invoice locked for `collect` (`next` the status it leaves), and publishes
 * billing.payment-recorded.v1 with the invoice after it. Shared by the desk and a paid claim.
 */
export async function postPayment(
  tx: Tx,
  invoice: Invoice,
  payment: Omit<Payment, 'id' | 'invoiceId' | 'currency'>,
  next: Invoice['status'],
  now: Date,
): Promise<PaymentRecorded> {
  withinBalance(invoice, payment.amount);
  const posted: Payment = { id: uuidv7(), invoiceId: invoice.id, currency: invoice.currency, ...payment };
  await store.insertPayment(tx, posted, next, now);
  const after = (await store.getInvoice(tx, invoice.id)) as Invoice;
  await appendToOutbox(tx, SOURCE, {
    type: 'billing.payment-recorded.v1',
    subject: invoice.id,
    data: { payment: posted, invoice: after },
  });
  return { payment: posted, invoice: after };
}

/** POST /invoices/{id}/payments: part or all of the balance, never more (409), in its currency. */
export async function recordPayment(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: PaymentInput,
): Promise<PaymentRecorded> {
  authorize(caller, 'billing:collect');
  const problems = currencyProblem(input.currency, '/body/currency');
  if (input.reference !== undefined && !input.reference.trim())
    problems.push({ path: '/body/reference', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  return ctx.db.transaction(async (tx) => {
    const { invoice, next } = await lockFor(tx, id, 'collect', {
      balanceAfter: (i) => i.balance - input.amount,
    });
    sameCurrency(invoice, input.currency);
    const now = ctx.clock.now();
    return postPayment(
      tx,
      invoice,
      {
        amount: input.amount,
        method: input.method,
        ...(input.reference ? { reference: input.reference.trim() } : {}),
        recordedBy: caller.id,
        recordedAt: now.toISOString(),
      },
      next,
      now,
    );
  });
}

/**
 * Appends an adjustment to an invoice locked for `collect`: at most the balance and, on a line,
 * at most what is left of that line.
 */
export async function postAdjustment(
  tx: Tx,
  invoice: Invoice,
  adjustment: Omit<InvoiceAdjustment, 'id' | 'invoiceId' | 'currency'>,
  next: Invoice['status'],
  now: Date,
): Promise<void> {
  withinBalance(invoice, adjustment.amount);
  if (adjustment.line !== undefined) {
    const line = invoice.lines.find((l) => l.line === adjustment.line);
    if (!line)
      invalid([{ path: '/body/line', message: `invoice ${invoice.number} has no line ${adjustment.line}` }]);
    const left = line.amount - line.adjusted;
    if (adjustment.amount > left)
      throw BillingErrors.exceeds_line(
        `${adjustment.amount} exceeds what is left of line ${line.line} (${left} ${invoice.currency})`,
        { extensions: { line: line.line, left } },
      );
  }
  await store.insertAdjustment(
    tx,
    { id: uuidv7(), invoiceId: invoice.id, currency: invoice.currency, ...adjustment },
    next,
    now,
  );
}

/** POST /invoices/{id}/adjustments: one line or the whole invoice, one reason. */
export async function recordAdjustment(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: InvoiceAdjustmentInput,
): Promise<Invoice> {
  authorize(caller, 'billing:write');
  const problems = currencyProblem(input.currency, '/body/currency');
  if (input.note !== undefined && !input.note.trim())
    problems.push({ path: '/body/note', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  return ctx.db.transaction(async (tx) => {
    const { invoice, next } = await lockFor(tx, id, 'collect', {
      balanceAfter: (i) => i.balance - input.amount,
    });
    sameCurrency(invoice, input.currency);
    const now = ctx.clock.now();
    await postAdjustment(
      tx,
      invoice,
      {
        amount: input.amount,
        reason: input.reason,
        ...(input.line !== undefined ? { line: input.line } : {}),
        ...(input.note ? { note: input.note.trim() } : {}),
        recordedBy: caller.id,
        recordedAt: now.toISOString(),
      },
      next,
      now,
    );
    return (await store.getInvoice(tx, id)) as Invoice;
  });
}
