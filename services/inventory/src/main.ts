import { runStandalone } from '@hms/platform';
import { inventoryService } from './service.js';

await runStandalone(inventoryService);
