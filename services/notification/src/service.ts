import { readMigrations, type ServiceModule } from '@hms/platform';
import { contextOf } from './context.js';
import { dispatchDue } from './dispatch.js';
import { NotificationErrors } from './errors.js';
import { notificationConsumers } from './events.js';
import { notificationRoutes } from './routes/notifications.js';

/**
 * The Notification service (DOMAIN.md "Notification", issue #15): messages about appointments,
 * invoices, denied claims and low stock, by email and SMS, each (fact, recipient, channel) at
 * most once, held through quiet hours, retried with backoff. Consumers write rows; the dispatcher
 * job sends (docs/adr/0016-notification-delivery.md).
 */
export const notificationService: ServiceModule = {
  name: 'notification',
  description: 'Email and SMS about appointments, invoices, denied claims and low stock, sent at most once',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'notification'),
  errors: NotificationErrors,
  tags: {
    notifications:
      "Email and SMS messages sent about appointments, invoices, denied claims and low stock, and each recipient's preferences.",
  },
  setup(app, deps) {
    const ctx = contextOf(deps);
    notificationRoutes(app, ctx);
    deps.scheduler.every('notification-dispatch', ctx.config.NOTIFY_DISPATCH_INTERVAL_MS, () =>
      dispatchDue(ctx),
    );
  },
  consumers: (deps) => notificationConsumers(contextOf(deps)),
};
