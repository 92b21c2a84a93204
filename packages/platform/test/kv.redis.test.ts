import { createTestStore, testRedisUrl } from '@hms/testkit';
import { describe, it } from 'vitest';
import { describeKvContract } from './kv.contract.js';

if (testRedisUrl()) {
  describeKvContract('redis', () => createTestStore({ kind: 'redis' }));
} else {
  describe.skip('key-value store contract: redis (TEST_REDIS_URL is not set)', () => {
    it('needs Redis', () => undefined);
  });
}
