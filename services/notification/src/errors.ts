import { defineErrors } from '@hms/platform';

/** Every error the Notification service answers beyond the kit's common ones (STYLE.md §7). */
export const NotificationErrors = defineErrors({
  notification_not_found: { status: 404, title: 'Notification not found' },
  recipient_not_found: { status: 404, title: 'No patient or staff member with that id' },
});
