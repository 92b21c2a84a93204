import { runStandalone } from '@hms/platform';
import { auditService } from './service.js';

await runStandalone(auditService);
