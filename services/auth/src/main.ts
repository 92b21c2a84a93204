import { runStandalone } from '@hms/platform';
import { authService } from './service.js';

await runStandalone(authService);
