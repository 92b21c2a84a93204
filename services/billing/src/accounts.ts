import type { BillingAccount, Patient } from '@hms/contracts';
import { authorize, type Caller, type CopiedEntry, type ServiceDeps } from '@hms/platform';
import type { BillingContext } from './context.js';
import { perCurrency } from './domain/money.js';
import { BillingErrors } from './errors.js';
import * as store from './store/invoices.js';

/**
 * A patient's billing account: what Billing keeps of them (DESIGN.md §5: only what it needs, no
 * name nor contact data), a kit local copy fed by `patient.registered.v1` (which opens it) and
 * `patient.updated.v1` (the newest version wins), read through to Patient when it lacks one.
 */
export interface AccountEntry {
  payer?: string;
  memberId?: string;
  groupNumber?: string;
  status: string;
}

export function accountEntry(p: Patient): AccountEntry {
  return {
    status: p.status,
    ...(p.insurance
      ? {
          payer: p.insurance.payer,
          memberId: p.insurance.memberId,
          ...(p.insurance.groupNumber ? { groupNumber: p.insurance.groupNumber } : {}),
        }
      : {}),
  };
}

const isPatient = (b: unknown): b is Patient =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as Patient).id === 'string' &&
  typeof (b as Patient).version === 'number' &&
  typeof (b as Patient).status === 'string';

export const makeAccounts = (deps: Pick<ServiceDeps, 'localCopy'>) =>
  deps.localCopy<AccountEntry>({
    kind: 'billing-account',
    owner: 'patient',
    path: (id) => `/api/v1/patients/${id}`,
    fromOwner: (b): CopiedEntry<AccountEntry> | undefined =>
      isPatient(b) ? { version: b.version, data: accountEntry(b) } : undefined,
  });

/** GET /billing/accounts/{patientId}: the account, its open invoices and what is owed on them. */
export async function getAccount(
  ctx: BillingContext,
  caller: Caller,
  patientId: string,
): Promise<BillingAccount> {
  authorize(caller, 'billing:read');
  const entry = await ctx.accounts.get(patientId);
  if (!entry) throw BillingErrors.account_not_found();
  const version = (await ctx.accounts.cached(patientId))?.version ?? 1;
  const [open, refunds] = await Promise.all([
    store.openInvoicesOf(ctx.db, patientId),
    store.refundsOf(ctx.db, patientId),
  ]);
  return {
    patientId,
    ...(entry.payer ? { payer: entry.payer } : {}),
    ...(entry.memberId ? { memberId: entry.memberId } : {}),
    ...(entry.groupNumber ? { groupNumber: entry.groupNumber } : {}),
    patientStatus: entry.status,
    patientVersion: version,
    openInvoices: open,
    balances: perCurrency(open.map((i) => ({ currency: i.currency, amount: i.balance }))),
    refundsDue: perCurrency(refunds),
  };
}
