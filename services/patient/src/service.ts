import { readMigrations, type ServiceModule } from '@hms/platform';
import { PatientErrors } from './errors.js';
import { patientRoutes } from './routes/patients.js';

/** The Patient service: demographics and history (DOMAIN.md "Patient"). */
export const patientService: ServiceModule = {
  name: 'patient',
  description: 'Patient demographics, history and search',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'patient'),
  errors: PatientErrors,
  tags: {
    patients: 'Patient records: registration with a duplicate check, search, updates and deactivation.',
  },
  setup(app, deps) {
    patientRoutes(app, deps.db);
  },
};

/** The MRN format (`MRN` + 8 digits + Luhn check digit), for tools that generate patients. */
export { formatMrn } from './domain/patient.js';
