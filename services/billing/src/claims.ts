import type {
  Claim,
  ClaimApproveInput,
  ClaimDenyInput,
  ClaimInput,
  ClaimPaid,
  Invoice,
} from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
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
import { claimable, claimTransition, type ClaimAction } from './domain/claim.js';
import { invoiceTransition } from './domain/invoice.js';
import { BillingErrors } from './errors.js';
import { currencyProblem, lockFor, rangeProblems } from './invoices.js';
import { postPayment } from './ledger.js';
import * as claims from './store/claims.js';
import * as invoices from './store/invoices.js';

/**
 * The claim use cases: draft → submitted → approved | denied; approved → paid, each step kept in
 * the claim's history. A step that touches the invoice's money (creating, submitting, paying)
 * locks the invoice's row first and then the claim's, always in that order, so claims and
 * payments of one invoice are decided one at a time against one ledger.
 */

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

/** The invoice's balance less what its other open claims hold must cover `amount` (409 otherwise). */
async function withinClaimable(tx: Tx, invoice: Invoice, amount: number, except?: string): Promise<void> {
  const left = claimable(invoice.balance, await claims.openClaimsOf(tx, invoice.id, except));
  if (amount > left)
    throw BillingErrors.exceeds_claimable(
      `${amount} exceeds what may still be claimed on invoice ${invoice.number} (${left} ${invoice.currency})`,
      { extensions: { claimable: left, currency: invoice.currency } },
    );
}

/** The invoice locked, open (issued and owing) for a claim in `currency`. */
async function openInvoice(tx: Tx, id: string, currency: string): Promise<Invoice> {
  const { invoice } = await lockFor(tx, id, 'collect');
  if (invoice.currency !== currency)
    throw BillingErrors.currency_mismatch(`invoice ${invoice.number} is in ${invoice.currency}`, {
      extensions: { invoiceCurrency: invoice.currency },
    });
  return invoice;
}

async function emit(
  tx: Tx,
  type: 'billing.claim-submitted.v1' | 'billing.claim-approved.v1' | 'billing.claim-denied.v1',
  id: string,
): Promise<Claim> {
  const saved = (await claims.getClaim(tx, id)) as Claim;
  await appendToOutbox(tx, SOURCE, { type, subject: id, data: { claim: saved } });
  return saved;
}

/** POST /claims: a draft on an issued invoice, for the patient's insurer unless another is named. */
export async function createClaim(ctx: BillingContext, caller: Caller, input: ClaimInput): Promise<Claim> {
  authorize(caller, 'billing:write');
  const problems: ProblemField[] = currencyProblem(input.currency, '/body/currency');
  for (const f of ['payer', 'memberId', 'groupNumber'] as const)
    if (input[f] !== undefined && !input[f].trim())
      problems.push({ path: `/body/${f}`, message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  const target = await invoices.getInvoice(ctx.db, input.invoiceId);
  if (!target) invalid([{ path: '/body/invoiceId', message: 'no invoice has this id' }]);
  // the account is read (through to Patient if need be) before the transaction: a network call
  const account = input.payer && input.memberId ? undefined : await ctx.accounts.get(target.patientId);
  const payer = input.payer?.trim() ?? account?.payer;
  const memberId = input.memberId?.trim() ?? account?.memberId;
  const groupNumber = input.groupNumber?.trim() ?? (input.payer ? undefined : account?.groupNumber);
  if (!payer || !memberId)
    invalid([
      ...(payer ? [] : [{ path: '/body/payer', message: 'the patient has no insurer on record: name one' }]),
      ...(memberId
        ? []
        : [{ path: '/body/memberId', message: 'the patient has no member id on record: give one' }]),
    ]);
  const id = uuidv7();
  try {
    return await ctx.db.transaction(async (tx) => {
      const invoice = await openInvoice(tx, input.invoiceId, input.currency);
      if (input.resubmissionOf !== undefined) {
        const first = await claims.getClaim(tx, input.resubmissionOf);
        if (!first || first.invoiceId !== invoice.id || first.status !== 'denied' || first.resubmittedAs)
          throw notResubmittable(input.resubmissionOf, first);
      }
      await withinClaimable(tx, invoice, input.amount);
      await claims.insertClaim(
        tx,
        {
          id,
          invoiceId: invoice.id,
          patientId: invoice.patientId,
          payer,
          memberId,
          groupNumber,
          amount: input.amount,
          currency: input.currency,
          resubmissionOf: input.resubmissionOf,
          createdBy: caller.id,
        },
        ctx.clock.now(),
      );
      return (await claims.getClaim(tx, id)) as Claim;
    });
  } catch (err) {
    // two resubmissions of one denied claim at once: the UNIQUE lets one through
    if (isUniqueViolation(err) && input.resubmissionOf !== undefined)
      throw notResubmittable(input.resubmissionOf, await claims.getClaim(ctx.db, input.resubmissionOf));
    throw err;
  }
}

function notResubmittable(id: string, first: Claim | undefined) {
  return BillingErrors.not_resubmittable(
    !first
      ? `no claim has the id ${id}`
      : first.resubmittedAs
        ? `claim ${id} was resubmitted already as ${first.resubmittedAs}`
        : `claim ${id} is ${first.status}${first.status === 'denied' ? ' on another invoice' : ', not denied'}`,
    { extensions: first?.resubmittedAs ? { existingId: first.resubmittedAs } : {} },
  );
}

export async function getClaim(ctx: BillingContext, caller: Caller, id: string): Promise<Claim> {
  authorize(caller, 'billing:read');
  const c = await claims.getClaim(ctx.db, id);
  if (!c) throw BillingErrors.claim_not_found();
  return c;
}

export interface ClaimQuery extends claims.ClaimFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export async function listClaims(ctx: BillingContext, caller: Caller, q: ClaimQuery) {
  authorize(caller, 'billing:read');
  const problems = rangeProblems(q);
  if (problems.length > 0) invalid(problems);
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await claims.listClaims(
    ctx.db,
    { patientId: q.patientId, invoiceId: q.invoiceId, status: q.status, from: q.from, to: q.to },
    { after, limit },
  );
  return toPage(rows, limit, (c) => [c.id]);
}

/**
 * Locks the claim (after its invoice when `withInvoice`, the order every use case keeps) and
 * checks `action` is allowed from its status (409 otherwise).
 */
async function lockClaim(
  tx: Tx,
  id: string,
  action: ClaimAction,
  withInvoice: boolean,
): Promise<{ claim: Claim; next: Claim['status']; invoice?: Invoice }> {
  const seen = await claims.getClaim(tx, id);
  if (!seen) throw BillingErrors.claim_not_found();
  const invoice = withInvoice
    ? await lockFor(tx, seen.invoiceId, 'collect').catch(rethrowUnlessNotOpen)
    : undefined;
  const claim = (await claims.getClaim(tx, id, true)) as Claim;
  const next = claimTransition(claim.status, action);
  if (!next)
    throw BillingErrors.invalid_transition(`a ${claim.status} claim cannot be ${pastTense[action]}`, {
      extensions: { claimStatus: claim.status },
    });
  if (withInvoice && !invoice) {
    const current = (await invoices.getInvoice(tx, claim.invoiceId)) as Invoice;
    throw BillingErrors.invoice_not_open(`invoice ${current.number} is ${current.status}`, {
      extensions: { invoiceStatus: current.status },
    });
  }
  return { claim, next, ...(invoice ? { invoice: invoice.invoice } : {}) };
}
const pastTense: Record<ClaimAction, string> = {
  submit: 'submitted',
  approve: 'approved',
  deny: 'denied',
  pay: 'paid',
};

/** A closed invoice still lets the claim's own status be checked first (its 409 says more). */
function rethrowUnlessNotOpen(err: unknown): undefined {
  if (err instanceof Error && (err as { code?: string }).code === 'invoice_not_open') return undefined;
  throw err;
}

/** POST /claims/{id}/submit: sent to the insurer, if the invoice can still carry it. */
export async function submitClaim(ctx: BillingContext, caller: Caller, id: string): Promise<Claim> {
  authorize(caller, 'billing:write');
  return ctx.db.transaction(async (tx) => {
    const { claim, next, invoice } = await lockClaim(tx, id, 'submit', true);
    await withinClaimable(tx, invoice as Invoice, claim.amount, claim.id);
    const now = ctx.clock.now();
    await claims.changeClaim(tx, id, { status: next }, now);
    await claims.addHistory(tx, id, {
      at: now.toISOString(),
      action: 'submitted',
      by: caller.id,
      amount: claim.amount,
    });
    return emit(tx, 'billing.claim-submitted.v1', id);
  });
}

/** POST /claims/{id}/approve: with the amount the insurer approved, at most the amount claimed. */
export async function approveClaim(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: ClaimApproveInput,
): Promise<Claim> {
  authorize(caller, 'claims:adjudicate');
  return ctx.db.transaction(async (tx) => {
    const { claim, next } = await lockClaim(tx, id, 'approve', false);
    if (input.approvedAmount > claim.amount)
      invalid([
        { path: '/body/approvedAmount', message: `must not exceed the amount claimed (${claim.amount})` },
      ]);
    const now = ctx.clock.now();
    await claims.changeClaim(tx, id, { status: next, approvedAmount: input.approvedAmount }, now);
    await claims.addHistory(tx, id, {
      at: now.toISOString(),
      action: 'approved',
      by: caller.id,
      amount: input.approvedAmount,
    });
    return emit(tx, 'billing.claim-approved.v1', id);
  });
}

/** POST /claims/{id}/deny: with a reason; the invoice stays owed (a denial is not a write-off). */
export async function denyClaim(
  ctx: BillingContext,
  caller: Caller,
  id: string,
  input: ClaimDenyInput,
): Promise<Claim> {
  authorize(caller, 'claims:adjudicate');
  const reason = input.reason.trim();
  if (!reason) invalid([{ path: '/body/reason', message: 'must not be blank' }]);
  return ctx.db.transaction(async (tx) => {
    const { next } = await lockClaim(tx, id, 'deny', false);
    const now = ctx.clock.now();
    await claims.changeClaim(tx, id, { status: next, denialReason: reason, denialCode: input.code }, now);
    await claims.addHistory(tx, id, { at: now.toISOString(), action: 'denied', by: caller.id, reason });
    return emit(tx, 'billing.claim-denied.v1', id);
  });
}

/**
 * POST /claims/{id}/pay: the insurer paid the approved amount; it is posted to the invoice as a
 * payment (method insurance, reference the claim) in the same transaction, within its balance.
 */
export async function payClaim(ctx: BillingContext, caller: Caller, id: string): Promise<ClaimPaid> {
  authorize(caller, 'billing:write');
  return ctx.db.transaction(async (tx) => {
    const { claim, next, invoice } = await lockClaim(tx, id, 'pay', true);
    const inv = invoice as Invoice;
    const amount = claim.approvedAmount as number;
    const now = ctx.clock.now();
    // an issued invoice may always collect: paid once this leaves nothing owed
    const invoiceNext = invoiceTransition(inv.status, 'collect', inv.balance - amount) ?? inv.status;
    const { payment, invoice: after } = await postPayment(
      tx,
      inv,
      {
        amount,
        method: 'insurance',
        reference: claim.id,
        claimId: claim.id,
        recordedBy: caller.id,
        recordedAt: now.toISOString(),
      },
      invoiceNext,
      now,
    );
    await claims.changeClaim(tx, id, { status: next, paymentId: payment.id }, now);
    await claims.addHistory(tx, id, { at: now.toISOString(), action: 'paid', by: caller.id, amount });
    const saved = (await claims.getClaim(tx, id)) as Claim;
    await appendToOutbox(tx, SOURCE, {
      type: 'billing.claim-paid.v1',
      subject: id,
      data: { claim: saved, payment, invoice: after },
    });
    return { claim: saved, payment, invoice: after };
  });
}
