import { defineErrors, type ServiceModule } from '@hms/platform';

/** The notification service (issue #15): being built. */
export const notificationService: ServiceModule = {
  name: 'notification',
  description: 'being built',
  migrations: () => [],
  errors: defineErrors({}),
  setup() {},
};
