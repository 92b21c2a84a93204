import { runStandalone } from '@hms/platform';
import { analyticsService } from './service.js';

await runStandalone(analyticsService);
