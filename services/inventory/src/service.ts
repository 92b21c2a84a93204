import { readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { inventoryConfig } from './config.js';
import { InventoryErrors } from './errors.js';
import { inventoryConsumers } from './events.js';
import type { InventoryContext } from './items.js';
import { writeOffExpiredLots } from './ledger.js';
import { releaseExpiredReservations } from './reservations.js';
import { inventoryRoutes } from './routes/inventory.js';

/** The Inventory service: items, lots, reservations for the dispensing saga, the ledger, reorders (DOMAIN.md "Inventory"). */
export const inventoryService: ServiceModule = {
  name: 'inventory',
  description: 'Stock of items in lots: reservations, a ledger of every change, expiry write-offs, reorders',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'inventory'),
  errors: InventoryErrors,
  tags: {
    inventory:
      'Items and their stock in lots: the ledger of every change, reservations for dispensing, and purchase orders.',
  },
  setup(app, deps) {
    const ctx = contextOf(deps);
    inventoryRoutes(app, ctx);
    deps.scheduler.every('inventory-reservation-ttl', ctx.config.INVENTORY_RESERVATION_JOB_MS, () =>
      releaseExpiredReservations(ctx),
    );
    deps.scheduler.every('inventory-expiry', ctx.config.INVENTORY_EXPIRY_JOB_MS, () =>
      writeOffExpiredLots(ctx),
    );
  },
  // medication.dispensed.v1 from the Pharmacy: the reservation it names becomes a decrement
  consumers: (deps) => inventoryConsumers(contextOf(deps)),
};

/** One context per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, InventoryContext>();
function contextOf(deps: ServiceDeps): InventoryContext {
  let ctx = made.get(deps);
  if (!ctx) {
    ctx = { db: deps.db, clock: deps.clock, facility: deps.facility, config: inventoryConfig(deps.env) };
    made.set(deps, ctx);
  }
  return ctx;
}
