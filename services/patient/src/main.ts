import { runStandalone } from '@hms/platform';
import { patientService } from './service.js';

await runStandalone(patientService);
