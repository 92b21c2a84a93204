import { createServer, type AddressInfo, type Socket } from 'node:net';
import { RedisStore } from '@hms/platform';
import { createTestStore, testRedisUrl } from '@hms/testkit';
import { describe, expect, it } from 'vitest';
import { describeKvContract } from './kv.contract.js';

if (testRedisUrl()) {
  describeKvContract('redis', () => createTestStore({ kind: 'redis' }));
} else {
  describe.skip('key-value store contract: redis (TEST_REDIS_URL is not set)', () => {
    it('needs Redis', () => undefined);
  });
}

describe('RedisStore against a server that stops answering', () => {
  it('fails a command within its timeout instead of holding the caller', async () => {
    // accepts connections and never answers, as a hung Redis does
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new RedisStore(`redis://127.0.0.1:${port}`);
    try {
      const started = Date.now();
      await expect(store.get('anything')).rejects.toThrow();
      await expect(store.takeBudget('budget', { limit: 10, windowMs: 1000 })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      store.client.disconnect();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);
});
