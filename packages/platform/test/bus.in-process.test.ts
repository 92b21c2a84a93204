import { createTestBus } from '@hms/testkit';
import { describeBusContract } from './bus.contract.js';

describeBusContract('InProcessBus', (opts) => createTestBus({ kind: 'in-process', ...opts }));
