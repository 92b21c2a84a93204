import { randomBytes } from 'node:crypto';
import { MemoryStore, RedisStore, type KeyValueStore } from '@hms/platform';

/**
 * The Redis tests run against: `TEST_REDIS_URL`, each store under a key prefix of its own.
 * Unset: the memory store, except under CI.
 */
export function testRedisUrl(): string | undefined {
  const url = process.env.TEST_REDIS_URL;
  if (!url && process.env.CI === 'true')
    throw new Error('TEST_REDIS_URL must be set in CI: tests run against real Redis');
  return url || undefined;
}

export interface TestStore {
  store: KeyValueStore;
  close(): Promise<void>;
}

export async function createTestStore(
  opts: { kind?: 'auto' | 'redis' | 'memory'; prefix?: string } = {},
): Promise<TestStore> {
  const kind = opts.kind ?? 'auto';
  const url = kind === 'memory' ? undefined : testRedisUrl();
  if (kind === 'redis' && !url) throw new Error('TEST_REDIS_URL is not set');
  if (url) {
    const prefix = opts.prefix ?? `test:${randomBytes(4).toString('hex')}:`;
    const store = new RedisStore(url, prefix);
    return {
      store,
      async close() {
        const keys = await store.client.keys(`${prefix}*`);
        if (keys.length > 0) await store.client.del(...keys);
        await store.close();
      },
    };
  }
  const store = new MemoryStore();
  return { store, close: () => store.close() };
}
