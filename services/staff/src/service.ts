import { readMigrations, type ServiceModule } from '@hms/platform';
import { StaffErrors } from './errors.js';
import { staffConsumers } from './events.js';
import { staffRoutes } from './routes/staff.js';

/** The Staff service: people, working time, availability and assignments (DOMAIN.md "Staff"). */
export const staffService: ServiceModule = {
  name: 'staff',
  description: 'Staff, working hours, time off, availability and assignments',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'staff'),
  errors: StaffErrors,
  tags: {
    staff:
      'Staff members, their working hours and time off, their availability and assignments, and facility closures.',
  },
  setup(app, deps) {
    staffRoutes(app, { db: deps.db, clock: deps.clock, facility: deps.facility });
  },
  // its copy of assignments, from the Appointment service's events
  consumers: () => staffConsumers(),
};
