import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@hms/platform';

/** The Appointment service's own configuration keys (STYLE.md §9). */
export const AppointmentConfig = Type.Object({
  NO_SHOW_AFTER_MIN: Type.Integer({
    minimum: 1,
    maximum: 7 * 24 * 60,
    default: 60,
    description: 'an appointment still scheduled this many minutes after its end becomes no-show',
  }),
  NO_SHOW_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 60_000,
    description: 'how often the no-show job looks for appointments past their end',
  }),
  SLOT_GRID_MIN: Type.Integer({
    minimum: 5,
    maximum: 60,
    default: 15,
    description: 'slots offered by the slot finder start on multiples of this many minutes',
  }),
});
export type AppointmentConfig = Static<typeof AppointmentConfig>;

export const appointmentConfig = (env: NodeJS.ProcessEnv): AppointmentConfig =>
  loadConfig(AppointmentConfig, env);
