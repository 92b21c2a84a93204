import { readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { makeAccounts } from './accounts.js';
import { billingConfig } from './config.js';
import type { BillingContext } from './context.js';
import { BillingErrors } from './errors.js';
import { billingConsumers } from './events.js';
import { billingRoutes } from './routes/billing.js';
import { claimRoutes } from './routes/claims.js';
import { invoiceRoutes } from './routes/invoices.js';

/** The Billing & Claims service: invoices and their ledger, insurance claims, the fee schedule (DOMAIN.md "Billing & Claims"). */
export const billingService: ServiceModule = {
  name: 'billing',
  description: 'Invoices, payments, adjustments and insurance claims',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'billing'),
  errors: BillingErrors,
  tags: {
    invoices: 'Invoices and their ledger: drafting, issuing, voiding, payments and adjustments.',
    claims: 'Insurance claims on issued invoices: drafting, submission, adjudication and payment.',
    'fee schedule': 'The price of each appointment type, which invoices drafted from appointments bill.',
    accounts: "Patients' billing accounts: insurance, open invoices and the balance owed.",
  },
  setup(app, deps) {
    const ctx = contextOf(deps);
    invoiceRoutes(app, ctx);
    claimRoutes(app, ctx);
    billingRoutes(app, ctx);
  },
  // patient events keep the accounts; appointment events draft, keep and cancel invoices
  consumers: (deps) => billingConsumers(contextOf(deps)),
};

/** One context per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, BillingContext>();
function contextOf(deps: ServiceDeps): BillingContext {
  let ctx = made.get(deps);
  if (!ctx) {
    ctx = {
      db: deps.db,
      clock: deps.clock,
      timezone: deps.facility.timezone,
      config: billingConfig(deps.env),
      accounts: makeAccounts(deps),
    };
    made.set(deps, ctx);
  }
  return ctx;
}
