import type { FeeScheduleEntry, FeeScheduleInput } from '@hms/contracts';
import {
  authorize,
  checkVersion,
  CommonErrors,
  decodeCursor,
  invalid,
  toPage,
  type Caller,
} from '@hms/platform';
import type { BillingContext } from './context.js';
import { BillingErrors } from './errors.js';
import { currencyProblem } from './invoices.js';
import * as store from './store/reference.js';

/**
 * The fee schedule: a price per appointment type code, what an invoice drafted for such an
 * appointment bills. Data, not code: edited with billing:write. Prices already on invoices never
 * change with it.
 */

export async function listFees(
  ctx: BillingContext,
  caller: Caller,
  q: { limit?: number | undefined; cursor?: string | undefined },
) {
  authorize(caller, 'billing:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([code]) => typeof code === 'string')?.[0] as string | undefined;
  return toPage(await store.listFees(ctx.db, { after, limit }), limit, (f) => [f.code]);
}

export async function getFee(ctx: BillingContext, caller: Caller, code: string): Promise<FeeScheduleEntry> {
  authorize(caller, 'billing:read');
  const fee = await store.getFee(ctx.db, code);
  if (!fee) throw BillingErrors.fee_not_found();
  return fee;
}

/**
 * PUT /billing/fee-schedule/{code}: creates the entry, or replaces it; replacing an existing one
 * needs If-Match (428 without, 412 when stale), so two editors never overwrite each other unseen.
 * Answers the entry and whether it was created.
 */
export async function putFee(
  ctx: BillingContext,
  caller: Caller,
  code: string,
  input: FeeScheduleInput,
  expected: number | '*' | undefined,
): Promise<{ fee: FeeScheduleEntry; created: boolean }> {
  authorize(caller, 'billing:write');
  const currency = input.currency ?? ctx.config.BILLING_CURRENCY;
  const problems = currencyProblem(currency, '/body/currency');
  if (!input.description.trim()) problems.push({ path: '/body/description', message: 'must not be blank' });
  if (problems.length > 0) invalid(problems);
  return ctx.db.transaction(async (tx) => {
    const current = await store.getFee(tx, code, true);
    if (current) {
      if (expected === undefined)
        throw CommonErrors.precondition_required('send If-Match with the ETag of the entry you read');
      checkVersion(expected, current.version);
    } else if (expected !== undefined && expected !== '*') throw BillingErrors.fee_not_found();
    const fee = await store.putFee(
      tx,
      { code, description: input.description.trim(), unitPrice: input.unitPrice, currency },
      ctx.clock.now(),
    );
    return { fee, created: !current };
  });
}

/** DELETE /billing/fee-schedule/{code} (If-Match optional): appointments of the type draft unpriced from now on. */
export async function deleteFee(
  ctx: BillingContext,
  caller: Caller,
  code: string,
  expected: number | '*' | undefined,
): Promise<void> {
  authorize(caller, 'billing:write');
  await ctx.db.transaction(async (tx) => {
    const current = await store.getFee(tx, code, true);
    if (!current) throw BillingErrors.fee_not_found();
    if (expected !== undefined) checkVersion(expected, current.version);
    await store.deleteFee(tx, code);
  });
}
