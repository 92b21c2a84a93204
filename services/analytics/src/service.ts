import { defineErrors, type ServiceModule } from '@hms/platform';

/** The analytics service (issue #15): being built. */
export const analyticsService: ServiceModule = {
  name: 'analytics',
  description: 'being built',
  migrations: () => [],
  errors: defineErrors({}),
  setup() {},
};
