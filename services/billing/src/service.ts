import { defineErrors, type ServiceModule } from '@hms/platform';

/** The Billing & Claims service (issue #13): being built. */
export const billingService: ServiceModule = {
  name: 'billing',
  description: 'Invoices, payments, adjustments and insurance claims',
  migrations: () => [],
  errors: defineErrors({}),
  setup() {},
};
