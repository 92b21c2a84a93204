import type { InvoiceStatus } from '@hms/contracts';

/**
 * An invoice's life (DOMAIN.md "Billing & Claims"): draft → issued → paid when its balance
 * reaches 0; draft or issued → void. Which action is allowed from which status, and what an
 * appointment's cancellation does to its invoice. Pure: no I/O, unit tested.
 */

/**
 * edit: replace a draft's lines; issue: make it owed; void: withdraw it; collect: a payment or an
 * adjustment (the invoice is paid once nothing is owed).
 */
export type InvoiceAction = 'edit' | 'issue' | 'void' | 'collect';

/**
 * The status `action` leads to from `status`, given the balance after it (issuing an invoice of
 * total 0, or collecting the last of its balance, settles it); undefined when not allowed.
 */
export function invoiceTransition(
  status: InvoiceStatus,
  action: InvoiceAction,
  balanceAfter: number,
): InvoiceStatus | undefined {
  const settled = balanceAfter === 0 ? 'paid' : 'issued';
  switch (status) {
    case 'draft':
      if (action === 'edit') return 'draft';
      if (action === 'issue') return settled;
      if (action === 'void') return 'void';
      return undefined;
    case 'issued':
      if (action === 'void') return 'void';
      if (action === 'collect') return settled;
      return undefined;
    case 'paid':
    case 'void':
      return undefined;
  }
}

/** What an appointment's cancellation does to the invoice drafted for it. */
export type CancellationEffect =
  | { kind: 'void' }
  | { kind: 'adjust'; amount: number; refundDue: number }
  | { kind: 'refund'; refundDue: number }
  | { kind: 'none' };

/**
 * A draft is voided. An issued invoice is adjusted (reason `cancellation`) by what is still owed,
 * and what was paid on it is flagged for refund; a paid one only flags its payments for refund.
 * A void invoice is left alone.
 */
export function cancellationEffect(inv: {
  status: InvoiceStatus;
  balance: number;
  paid: number;
}): CancellationEffect {
  switch (inv.status) {
    case 'draft':
      return { kind: 'void' };
    case 'issued':
      return { kind: 'adjust', amount: inv.balance, refundDue: inv.paid };
    case 'paid':
      return inv.paid > 0 ? { kind: 'refund', refundDue: inv.paid } : { kind: 'none' };
    case 'void':
      return { kind: 'none' };
  }
}
