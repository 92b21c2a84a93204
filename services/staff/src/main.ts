import { runStandalone } from '@hms/platform';
import { staffService } from './service.js';

await runStandalone(staffService);
