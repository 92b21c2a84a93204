import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DenyList,
  ServiceRegistry,
  instancesOf,
  LoadBalancer,
  type KeyValueStore,
  type ServiceInstance,
} from '@hms/platform';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * ONE contract for the key-value store, run against Redis and the memory store: what the
 * deny-list, the registry, caches and counters rely on.
 */
export function describeKvContract(
  name: string,
  make: () => Promise<{ store: KeyValueStore; close: () => Promise<void> }>,
) {
  describe(`key-value store contract: ${name}`, () => {
    let store: KeyValueStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await make());
    });
    afterAll(async () => close());

    it('sets, gets and deletes a value', async () => {
      await store.set('a', '1');
      expect(await store.get('a')).toBe('1');
      await store.del('a');
      expect(await store.get('a')).toBeUndefined();
    });

    it('expires a value after its TTL and reports the time left', async () => {
      await store.set('ttl', 'x', 150);
      const left = await store.ttl('ttl');
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      await eventually(async () => (await store.get('ttl')) === undefined);
      expect(await store.ttl('ttl')).toBeUndefined();
    });

    it('setIfAbsent sets only once while the key lives', async () => {
      expect(await store.setIfAbsent('once', 'a', 5000)).toBe(true);
      expect(await store.setIfAbsent('once', 'b', 5000)).toBe(false);
      expect(await store.get('once')).toBe('a');
    });

    it('incr counts within a window that starts at the first increment', async () => {
      expect(await store.incr('ctr', 200)).toBe(1);
      expect(await store.incr('ctr', 200)).toBe(2);
      expect(await store.incr('ctr', 200)).toBe(3);
      await eventually(async () => (await store.get('ctr')) === undefined);
      expect(await store.incr('ctr', 200)).toBe(1);
    });

    it('incr is atomic under concurrency', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.incr('race', 5000)));
      expect(new Set(results).size).toBe(50);
      expect(Math.max(...results)).toBe(50);
    });

    it('takeBudget grants one unit at a time by default, then none until the window ends', async () => {
      const budget = { limit: 3, windowMs: 300 };
      const takes = [];
      for (let i = 0; i < 4; i++) takes.push(await store.takeBudget('budget:one', budget));
      expect(takes.map((t) => [t.granted, t.remaining])).toEqual([
        [1, 2],
        [1, 1],
        [1, 0],
        [0, 0],
      ]);
      for (const t of takes) {
        expect(t.resetInMs).toBeGreaterThan(0);
        expect(t.resetInMs).toBeLessThanOrEqual(300);
      }
      // a new window starts once this one has ended
      await eventually(async () => (await store.takeBudget('budget:one', budget)).granted === 1, 2000);
    });

    it('takeBudget reserves a share of what is left, never more than is left', async () => {
      const budget = { limit: 100, windowMs: 5000, share: 1 / 4, maxUnits: 10 };
      const granted: number[] = [];
      for (;;) {
        const t = await store.takeBudget('budget:share', budget);
        if (t.granted === 0) break;
        granted.push(t.granted);
      }
      // 10 (capped) while a quarter of what is left is more; then a quarter; then single units
      expect(granted.slice(0, 7)).toEqual([10, 10, 10, 10, 10, 10, 10]);
      expect(granted.slice(7)).toEqual([7, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1]);
      expect(granted.reduce((a, b) => a + b, 0)).toBe(100);
    });

    it('takeBudget never grants more than the limit to concurrent takers', async () => {
      const budget = { limit: 40, windowMs: 5000, share: 1 / 8, maxUnits: 4 };
      const takes = await Promise.all(
        Array.from({ length: 60 }, () => store.takeBudget('budget:race', budget)),
      );
      expect(takes.reduce((sum, t) => sum + t.granted, 0)).toBe(40);
      expect(takes.filter((t) => t.granted === 0).length).toBeGreaterThan(0);
    });

    it('scan answers every live key under a prefix and nothing else', async () => {
      await store.set('scan:x:1', 'one');
      await store.set('scan:x:2', 'two', 5000);
      await store.set('scan:y:1', 'other');
      await store.set('scan:x:gone', 'gone', 1);
      await sleep(20);
      const found = await store.scan('scan:x:');
      expect(Object.fromEntries(found)).toEqual({ 'scan:x:1': 'one', 'scan:x:2': 'two' });
    });

    it('delivers published messages to every subscriber until it unsubscribes', async () => {
      const a: string[] = [];
      const b: string[] = [];
      const offA = await store.subscribe('chan', (m) => a.push(m));
      const offB = await store.subscribe('chan', (m) => b.push(m));
      await store.publish('chan', 'hello');
      await eventually(() => a.length === 1 && b.length === 1);
      await offA();
      await store.publish('chan', 'again');
      await eventually(() => b.length === 2);
      expect(a).toEqual(['hello']);
      expect(b).toEqual(['hello', 'again']);
      await offB();
    });

    it('a revoked token id is denied by every deny-list sharing the store, until it expires', async () => {
      const early = new DenyList(store);
      await early.start();
      const exp = Math.floor(Date.now() / 1000) + 60;
      await early.revoke('jti-1', exp);
      expect(early.isRevoked('jti-1')).toBe(true);
      // a verifier that starts later loads what was revoked before it
      const late = new DenyList(store);
      await late.start();
      expect(late.isRevoked('jti-1')).toBe(true);
      // a verifier that was already running hears of a new revocation by push
      await late.revoke('jti-2', exp);
      await eventually(() => early.isRevoked('jti-2'));
      expect(early.isRevoked('never-revoked')).toBe(false);
      await early.stop();
      await late.stop();
    });

    it('registry: instances heartbeat, are listed, and drop after a missed heartbeat', async () => {
      const registry = new ServiceRegistry(store, { ttlMs: 300, cacheMs: 0 });
      const inst = (id: string, zone = ''): ServiceInstance => ({
        name: 'probe',
        id,
        url: `http://127.0.0.1:1/${id}`,
        version: '1',
        zone,
        healthy: true,
        startedAt: new Date().toISOString(),
      });
      await registry.register(inst('a', 'z1'));
      await registry.register(inst('b', 'z2'));
      expect((await instancesOf(registry, 'probe')).map((i) => i.id)).toEqual(['a', 'b']);
      // kept alive by heartbeats beyond one TTL
      await sleep(500);
      expect((await instancesOf(registry, 'probe')).map((i) => i.id)).toEqual(['a', 'b']);
      const balancer = new LoadBalancer(registry, { zone: 'z1' });
      expect(await balancer.pick('probe')).toBe('http://127.0.0.1:1/a');
      const anyZone = new LoadBalancer(registry);
      expect(new Set([await anyZone.pick('probe'), await anyZone.pick('probe')])).toEqual(
        new Set(['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b']),
      );
      // a stopped heartbeat (crashed instance) drops out after the TTL
      await registry.stop();
      await eventually(async () => (await instancesOf(registry, 'probe')).length === 0, 2000);
      await registry.deregister({ name: 'probe', id: 'a' });
    });
  });
}
