import { MemoryStore } from '@hms/platform';
import { describeKvContract } from './kv.contract.js';

describeKvContract('memory', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});
