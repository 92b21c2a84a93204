import { createHttpServer, readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { patientRoutes } from './routes/patients.js';

/** The Patient service: demographics and history (DOMAIN.md "Patient"). */
export const patientService: ServiceModule = {
  name: 'patient',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'patient'),
  async build(deps: ServiceDeps) {
    const app = createHttpServer({
      service: 'patient',
      logger: deps.logger,
      verifier: deps.verifier,
      metrics: deps.metrics,
      db: deps.db,
      readiness: deps.readiness,
      description: 'Patient demographics, history and search',
    });
    patientRoutes(app, deps.db);
    return app;
  },
};

/** The MRN format (`MRN` + 8 digits + Luhn check digit), for tools that generate patients. */
export { formatMrn } from './domain/patient.js';
