import type { EventType } from '@hms/contracts';
import type { EventConsumer } from '@hms/platform';
import type { InventoryContext } from './items.js';
import { consumeReservation } from './ledger.js';

/**
 * What the Inventory service consumes. (What it publishes goes to the outbox inside each use
 * case's transaction: the change and its event commit together.)
 */
export const PHARMACY_EVENTS = ['medication.dispensed.v1'] as const satisfies readonly EventType[];

export function inventoryConsumers(ctx: InventoryContext): EventConsumer[] {
  return [{ types: PHARMACY_EVENTS, handle: (tx, envelope) => consumeReservation(ctx, tx, envelope) }];
}
