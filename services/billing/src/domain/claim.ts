import type { ClaimStatus } from '@hms/contracts';

/**
 * A claim's life (DOMAIN.md "Billing & Claims"): draft → submitted → approved | denied;
 * approved → paid. A denied claim stays denied: it is resubmitted as a new claim linked to it.
 * Pure: no I/O, unit tested.
 */
export type ClaimAction = 'submit' | 'approve' | 'deny' | 'pay';

const NEXT: Record<ClaimAction, { from: ClaimStatus; to: ClaimStatus }> = {
  submit: { from: 'draft', to: 'submitted' },
  approve: { from: 'submitted', to: 'approved' },
  deny: { from: 'submitted', to: 'denied' },
  pay: { from: 'approved', to: 'paid' },
};

/** The status `action` leads to from `status`, or undefined when it is not allowed. */
export function claimTransition(status: ClaimStatus, action: ClaimAction): ClaimStatus | undefined {
  const step = NEXT[action];
  return step.from === status ? step.to : undefined;
}

/**
 * What a claim holds of its invoice's balance while the insurer has it: the amount claimed once
 * submitted, the amount approved once approved. A draft holds nothing (it is checked again when
 * submitted); a denied or paid one holds nothing either (a paid one's money is on the ledger).
 */
export function heldAmount(c: { status: ClaimStatus; amount: number; approvedAmount?: number }): number {
  if (c.status === 'submitted') return c.amount;
  if (c.status === 'approved') return c.approvedAmount ?? c.amount;
  return 0;
}

/** What may still be claimed on an invoice: its balance less what its other open claims hold. */
export function claimable(
  balance: number,
  others: readonly { status: ClaimStatus; amount: number; approvedAmount?: number }[],
): number {
  return Math.max(0, balance - others.reduce((a, c) => a + heldAmount(c), 0));
}
