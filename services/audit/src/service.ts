import { defineErrors, type ServiceModule } from '@hms/platform';

/** The Audit service (issue #14): being built. */
export const auditService: ServiceModule = {
  name: 'audit',
  description: 'The tamper-evident audit trail',
  migrations: () => [],
  errors: defineErrors({}),
  setup() {},
};
