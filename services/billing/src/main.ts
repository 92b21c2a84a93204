import { runStandalone } from '@hms/platform';
import { billingService } from './service.js';

await runStandalone(billingService);
