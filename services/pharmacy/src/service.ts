import { readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { pharmacyConfig } from './config.js';
import { makeCopies, pharmacyConsumers } from './copies.js';
import { PharmacyErrors } from './errors.js';
import type { PharmacyContext } from './medications.js';
import { resumePendingFills } from './fills.js';
import { expireDue } from './prescriptions.js';
import { pharmacyRoutes } from './routes/pharmacy.js';

/** The Pharmacy service: the formulary, prescriptions with the allergy check, the dispensing saga (DOMAIN.md "Pharmacy"). */
export const pharmacyService: ServiceModule = {
  name: 'pharmacy',
  description: 'The formulary, prescriptions with the allergy check, and dispensing (a saga with Inventory)',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'pharmacy'),
  errors: PharmacyErrors,
  tags: {
    medications:
      'The formulary of medications, ward dispensing without a prescription, and dispense history.',
    prescriptions:
      'Prescriptions with the allergy check, and filling them from inventory (a saga with Inventory).',
  },
  setup(app, deps) {
    const ctx = contextOf(deps);
    pharmacyRoutes(app, ctx);
    const config = pharmacyConfig(deps.env);
    deps.scheduler.every('pharmacy-prescription-expiry', config.PHARMACY_EXPIRY_JOB_MS, () => expireDue(ctx));
    // a fill left pending by a Pharmacy that stopped mid-saga is finished or compensated
    deps.scheduler.every('pharmacy-fill-resume', config.PHARMACY_RESUME_JOB_MS, () =>
      resumePendingFills(ctx),
    );
  },
  // patient and staff events keep the copies the allergy check and the prescriber rule read
  consumers: (deps) => pharmacyConsumers(contextOf(deps).copies),
};

/** One context per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, PharmacyContext>();
function contextOf(deps: ServiceDeps): PharmacyContext {
  let ctx = made.get(deps);
  if (!ctx) {
    ctx = { db: deps.db, clock: deps.clock, copies: makeCopies(deps), inventory: deps.upstream('inventory') };
    made.set(deps, ctx);
  }
  return ctx;
}
