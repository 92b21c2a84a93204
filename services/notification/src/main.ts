import { runStandalone } from '@hms/platform';
import { notificationService } from './service.js';

await runStandalone(notificationService);
