import { defineErrors } from '@hms/platform';

/** Every error the Staff service answers beyond the kit's common ones (STYLE.md §7). */
export const StaffErrors = defineErrors({
  staff_not_found: { status: 404, title: 'Staff member not found' },
  time_off_not_found: { status: 404, title: 'Time off not found' },
  closure_not_found: { status: 404, title: 'No facility closure on that date' },
  closure_exists: { status: 409, title: 'The facility is already closed on that date' },
  staff_has_appointments: {
    status: 409,
    title: 'The staff member has active appointments to come and cannot be deactivated',
  },
});
