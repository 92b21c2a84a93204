import type { PrescriptionStatus } from '@hms/contracts';
import { OPEN } from './prescription.js';

/**
 * What a fill of a prescription may take (DOMAIN.md "Pharmacy"): while the prescription is
 * active or filled and before its validUntil, each item with a whole fill left gives its
 * quantity; the units of every fill, made or under way, never exceed quantity × (1 + refills).
 * Pure: no I/O, unit tested.
 */

export interface FillableItem {
  medicationId: string;
  quantity: number;
  refills: number;
  dispensed: number;
  pending: number;
}

const cap = (i: FillableItem) => i.quantity * (1 + i.refills);

/** Whether the item has a whole fill left, counting the fills under way. */
export const hasFillLeft = (i: FillableItem): boolean => i.dispensed + i.pending + i.quantity <= cap(i);

/** Why the prescription cannot be filled now, or undefined when it can. */
export function fillRefusal(
  p: { status: PrescriptionStatus; validUntil: string; items: FillableItem[] },
  now: Date,
): string | undefined {
  if (!OPEN.includes(p.status)) return `a ${p.status} prescription cannot be filled`;
  if (Date.parse(p.validUntil) <= now.getTime()) return `the prescription was valid until ${p.validUntil}`;
  if (!p.items.some(hasFillLeft))
    return p.items.some((i) => i.pending > 0)
      ? 'the last fill left is under way'
      : 'no fills left: every item was dispensed its quantity × (1 + refills)';
  return undefined;
}

/** The units a fill takes: the quantity of each item with a fill left. */
export function fillLines(items: FillableItem[]): { medicationId: string; quantity: number }[] {
  return items.filter(hasFillLeft).map((i) => ({ medicationId: i.medicationId, quantity: i.quantity }));
}

/** The status after a fill completed: `completed` once every item was dispensed all it allows, else `filled`. */
export function statusAfterFill(items: FillableItem[]): PrescriptionStatus {
  return items.every((i) => i.pending === 0 && i.dispensed >= cap(i)) ? 'completed' : 'filled';
}
