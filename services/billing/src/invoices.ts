import type { Invoice, InvoiceInput, InvoiceLineInput, InvoiceUpdate, VoidInput } from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
  checkVersion,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type ProblemField,
  type Tx,
} from '@hms/platform';
import { SOURCE, type BillingContext } from './context.js';
import { addDays, facilityDate } from './domain/calendar.js';
import { invoiceTransition, type InvoiceAction } from './domain/invoice.js';
import { invoiceNumber, isCurrency } from './domain/money.js';
import { BillingErrors } from './errors.js';
import * as store from './store/invoices.js';

/**
 * The invoice use cases: authorize, validate, load, decide, save, emit. Every change locks the
 * invoice's row (`FOR UPDATE`) in its transaction, so a change and the ledger it reads cannot
 * interleave with another (docs/adr/0014), and a change and its event commit together.
 */

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

export function currencyProblem(currency: string, path: string): ProblemField[] {
  return isCurrency(currency) ? [] : [{ path, message: 'is not an ISO 4217 currency code' }];
}

function lineProblems(lines: readonly InvoiceLineInput[]): ProblemField[] {
  return lines.flatMap((l, i) =>
    l.description.trim() ? [] : [{ path: `/body/lines/${i}/description`, message: 'must not be blank' }],
  );
}

const trimmed = (lines: readonly InvoiceLineInput[]) =>
  lines.map((l) => ({ ...l, description: l.description.trim() }));

/** A new draft, numbered in the facility's year (the counter is taken last: see the store). */
export async function draft(
  ctx: BillingContext,
  tx: Tx,
  inv: Omit<store.NewInvoice, 'id' | 'number'>,
): Promise<string> {
  const now = ctx.clock.now();
  const year = Number(facilityDate(now, ctx.timezone).slice(0, 4));
  const id = uuidv7();
  const number = invoiceNumber(year, await store.nextInvoiceCounter(tx, year));
  await store.insertInvoice(tx, { ...inv, id, number }, now);
  return id;
}

/** POST /invoices: a draft, its total the sum of its lines. */
export async function createInvoice(
  ctx: BillingContext,
  caller: Caller,
  input: InvoiceInput,
): Promise<Invoice> {
  authorize(caller, 'billing:write');
  const currency = input.currency ?? ctx.config.BILLING_CURRENCY;
  const problems = [...currencyProblem(currency, '/body/currency'), ...lineProblems(input.lines)];
  if (input.notes !== undefined && !input.notes.trim())
    problems.push({ path: '/body/notes', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  // read through to Patient outside the transaction: an invoice names a patient Patient knows
  if (!(await ctx.accounts.get(input.patientId)))
    invalid([{ path: '/body/patientId', message: 'no patient has this id' }]);
  try {
    return await ctx.db.transaction(async (tx) => {
      const id = await draft(ctx, tx, {
        patientId: input.patientId,
        appointmentId: input.appointmentId,
        currency,
        needsPricing: false,
        notes: input.notes?.trim(),
        createdBy: caller.id,
        lines: trimmed(input.lines),
      });
      return (await store.getInvoice(tx, id)) as Invoice;
    });
  } catch (err) {
    if (!isUniqueViolation(err) || input.appointmentId === undefined) throw err;
    const existing = await store.invoiceOfAppointment(ctx.db, input.appointmentId);
    throw BillingErrors.appointment_invoiced(
      `the appointment is billed by invoice ${existing?.number ?? ''}`.trim(),
      {
        extensions: existing ? { existingId: existing.id } : {},
      },
    );
  }
}

export async function getInvoice(ctx: BillingContext, caller: Caller, id: string): Promise<Invoice> {
  authorize(caller, 'billing:read');
  const inv = await store.getInvoice(ctx.db, id);
  if (!inv) throw BillingErrors.invoice_not_found();
  return inv;
}

export interface InvoiceQuery extends store.InvoiceFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** `from` before `to`, when both are given (a list's date range). */
export function rangeProblems(q: { from?: string | undefined; to?: string | undefined }): ProblemField[] {
  return q.from !== undefined && q.to !== undefined && Date.parse(q.to) <= Date.parse(q.from)
    ? [{ path: '/querystring/to', message: 'must be after from' }]
    : [];
}

export async function listInvoices(ctx: BillingContext, caller: Caller, q: InvoiceQuery) {
  authorize(caller, 'billing:read');
  const problems = rangeProblems(q);
  if (problems.length > 0) invalid(problems);
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listInvoices(
    ctx.db,
    { patientId: q.patientId, status: q.status, appointmentId: q.appointmentId, from: q.from, to: q.to },
    { after, limit },
  );
  return toPage(rows, limit, (i) => [i.id]);
}

/**
 * Loads the invoice locked, checks `If-Match` when given and that `action` is allowed from its
 * status with the balance it would leave; answers the invoice and the status it moves to.
 */
export async function lockFor(
  tx: Tx,
  id: string,
  action: InvoiceAction,
  opts: { expected?: number | '*' | undefined; balanceAfter?: (inv: Invoice) => number } = {},
): Promise<{ invoice: Invoice; next: Invoice['status'] }> {
  const invoice = await store.getInvoice(tx, id, true);
  if (!invoice) throw BillingErrors.invoice_not_found();
  if (opts.expected !== undefined) checkVersion(opts.expected, invoice.version);
  const next = invoiceTransition(invoice.status, action, (opts.balanceAfter ?? ((i) => i.balance))(invoice));
  if (!next) {
    if (action === 'collect')
      throw BillingErrors.invoice_not_open(`invoice ${invoice.number} is ${invoice.status}`, {
        extensions: { invoiceStatus: invoice.status },
      });
    throw BillingErrors.invalid_transition(`a ${invoice.status} invoice cannot be ${pastTense[action]}`, {
      extensions: { invoiceStatus: invoice.status },
    });
  }
  return { invoice, next };
}
const pastTense: Record<InvoiceAction, string> = {
  edit: 'edited',
  issue: 'issued',
  void: 'voided',
  collect: 'paid or adjusted',
};

/** PUT /invoices/{id}: a draft's lines and notes (If-Match required); prices a flagged draft. */
export async function updateInvoice(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: InvoiceUpdate,
  expected: number | '*',
): Promise<Invoice> {
  authorize(caller, 'billing:write');
  const problems = lineProblems(input.lines);
  if (input.notes !== undefined && !input.notes.trim())
    problems.push({ path: '/body/notes', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  return ctx.db.transaction(async (tx) => {
    await lockFor(tx, id, 'edit', { expected });
    await store.replaceLines(tx, id, trimmed(input.lines), input.notes?.trim(), ctx.clock.now());
    return (await store.getInvoice(tx, id)) as Invoice;
  });
}

/** POST /invoices/{id}/issue: it is owed from now on (due after the payment terms); publishes it. */
export async function issueInvoice(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  expected: number | '*' | undefined,
): Promise<Invoice> {
  authorize(caller, 'billing:write');
  return ctx.db.transaction(async (tx) => {
    const { invoice, next } = await lockFor(tx, id, 'issue', { expected });
    if (invoice.needsPricing)
      throw BillingErrors.invoice_needs_pricing(
        `invoice ${invoice.number} was drafted for an appointment type the fee schedule has no price for`,
      );
    const now = ctx.clock.now();
    const dueAt = addDays(facilityDate(now, ctx.timezone), ctx.config.BILLING_PAYMENT_TERMS_DAYS);
    await store.markIssued(tx, id, next, dueAt, now);
    const saved = (await store.getInvoice(tx, id)) as Invoice;
    await appendToOutbox(tx, SOURCE, {
      type: 'billing.invoice-generated.v1',
      subject: id,
      data: { invoice: saved },
    });
    return saved;
  });
}

/** Voids the locked invoice: refused once any payment exists. */
export async function voidLocked(tx: Tx, invoice: Invoice, reason: string, now: Date): Promise<void> {
  if (invoice.payments.length > 0)
    throw BillingErrors.invoice_has_payments(
      `invoice ${invoice.number} has ${invoice.payments.length} payment(s); adjust it instead`,
      { extensions: { paid: invoice.paid } },
    );
  await store.markVoid(tx, invoice.id, reason, now);
}

/** POST /invoices/{id}/void: a draft, or an issued invoice nobody paid anything on. */
export async function voidInvoice(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: VoidInput,
  expected: number | '*' | undefined,
): Promise<Invoice> {
  authorize(caller, 'billing:write');
  const reason = input.reason.trim();
  if (!reason) invalid([{ path: '/body/reason', message: 'must not be blank' }]);
  return ctx.db.transaction(async (tx) => {
    const { invoice } = await lockFor(tx, id, 'void', { expected });
    await voidLocked(tx, invoice, reason, ctx.clock.now());
    return (await store.getInvoice(tx, id)) as Invoice;
  });
}
