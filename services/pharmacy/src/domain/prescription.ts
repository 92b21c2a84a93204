import type { PrescriptionInput, PrescriptionStatus } from '@hms/contracts';

/**
 * A prescription's rules (DOMAIN.md "Pharmacy"): its lifetime, which statuses may change to
 * which, and the input checks a schema cannot make. Pure: no I/O, unit tested.
 */

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * The default `validUntil`: the same instant a year later (UTC calendar; 29 February gives
 * 1 March of a common year, as `Date` rolls it over).
 */
export function defaultValidUntil(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d;
}

/** Problems of a prescription request a schema cannot see, all at once (JSON pointers from the request). */
export function prescriptionProblems(input: PrescriptionInput, now: Date): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  input.items.forEach((item, i) => {
    const first = seen.get(item.medicationId);
    if (first !== undefined)
      problems.push({
        path: `/body/items/${i}/medicationId`,
        message: `the medication is prescribed already by item ${first}: one item per medication`,
      });
    else seen.set(item.medicationId, i);
    for (const field of ['dose', 'route', 'frequency'] as const)
      if (!item[field].trim())
        problems.push({ path: `/body/items/${i}/${field}`, message: 'must not be blank' });
  });
  if (input.validUntil !== undefined && Date.parse(input.validUntil) <= now.getTime())
    problems.push({ path: '/body/validUntil', message: 'must be in the future' });
  if (input.overrideReason !== undefined && !input.overrideReason.trim())
    problems.push({ path: '/body/overrideReason', message: 'must not be blank' });
  return problems;
}

/** Statuses in which a prescription can still be filled (with refills left, before validUntil). */
export const OPEN: readonly PrescriptionStatus[] = ['active', 'filled'];

export type PrescriptionAction = 'cancel' | 'expire';

/** The status an action leads to from `status`, or undefined when the action is not allowed from it. */
export function transition(
  status: PrescriptionStatus,
  action: PrescriptionAction,
): PrescriptionStatus | undefined {
  if (!OPEN.includes(status)) return undefined;
  return action === 'cancel' ? 'cancelled' : 'expired';
}

/** Whether a prescription in `status` valid until `validUntil` has expired at `now` (the expiry job's test). */
export function isDue(status: PrescriptionStatus, validUntil: string, now: Date): boolean {
  return OPEN.includes(status) && Date.parse(validUntil) <= now.getTime();
}
