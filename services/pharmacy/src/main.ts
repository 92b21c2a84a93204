import { runStandalone } from '@hms/platform';
import { pharmacyService } from './service.js';

await runStandalone(pharmacyService);
