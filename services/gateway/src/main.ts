import { runStandalone } from '@hms/platform';
import { gatewayService } from './service.js';

await runStandalone(gatewayService);
