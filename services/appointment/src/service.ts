import { readMigrations, type ServiceModule } from '@hms/platform';
import { markNoShows, type AppointmentContext } from './appointments.js';
import { appointmentConfig } from './config.js';
import { Copies, appointmentConsumers } from './copies.js';
import { AppointmentErrors } from './errors.js';
import { appointmentRoutes } from './routes/appointments.js';

/** The Appointment service: types, booking without double booking, series, slots (DOMAIN.md "Appointment"). */
export const appointmentService: ServiceModule = {
  name: 'appointment',
  description: 'Appointments: types, booking without double booking, recurring series, slot finder',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'appointment'),
  errors: AppointmentErrors,
  tags: {
    appointments:
      'Appointment types, booking (single or a recurring series) without double booking, the slot finder, and the life of an appointment: reschedule, cancel, check in, complete, no-show.',
  },
  setup(app, deps) {
    const config = appointmentConfig(deps.env);
    const ctx: AppointmentContext = {
      db: deps.db,
      clock: deps.clock,
      facility: deps.facility,
      copies: copiesOf(deps),
    };
    appointmentRoutes(app, ctx, { gridMin: config.SLOT_GRID_MIN });
    deps.scheduler.every('appointment-no-show', config.NO_SHOW_INTERVAL_MS, () =>
      markNoShows(ctx, config.NO_SHOW_AFTER_MIN),
    );
  },
  consumers: (deps) => appointmentConsumers(copiesOf(deps)),
};

/** One Copies per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, Copies>();
function copiesOf(deps: Parameters<ServiceModule['setup']>[1]): Copies {
  let copies = made.get(deps);
  if (!copies) {
    copies = new Copies(deps, deps.db, deps.clock);
    made.set(deps, copies);
  }
  return copies;
}
