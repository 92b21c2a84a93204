import { runStandalone } from '@hms/platform';
import { appointmentService } from './service.js';

await runStandalone(appointmentService);
