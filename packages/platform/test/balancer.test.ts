import { describe, expect, it } from 'vitest';
import {
  ChainedSource,
  LoadBalancer,
  MemoryStore,
  NoInstanceError,
  ServiceRegistry,
  StaticRegistry,
  instancesOf,
  type InstanceSource,
  type ServiceInstance,
} from '@hms/platform';

const inst = (id: string, zone: string, healthy = true): ServiceInstance => ({
  name: 'svc',
  id,
  url: `http://${id}`,
  version: '1',
  zone,
  healthy,
  startedAt: '',
});

const source = (list: ServiceInstance[]): InstanceSource => ({
  withInstances: (_name, use) => void Promise.resolve().then(() => use(null, list)),
});

/** What `pickThen` answered before returning (undefined: it had not called back yet). */
function pickedAtOnce(lb: LoadBalancer, name: string): string | Error | undefined {
  let answer: string | Error | undefined;
  lb.pickThen(name, (err, url) => (answer = err ?? url));
  return answer;
}

describe('client-side load balancing', () => {
  it('round-robins over healthy instances', async () => {
    const lb = new LoadBalancer(source([inst('a', ''), inst('b', ''), inst('c', '', false)]));
    const picks = await Promise.all(Array.from({ length: 6 }, () => lb.pick('svc')));
    expect(picks.sort()).toEqual(['http://a', 'http://a', 'http://a', 'http://b', 'http://b', 'http://b']);
  });

  it('prefers instances in its own zone and falls back to others', async () => {
    const lb = new LoadBalancer(source([inst('a', 'z1'), inst('b', 'z2')]), { zone: 'z2' });
    expect(await lb.pick('svc')).toBe('http://b');
    expect(await lb.pick('svc')).toBe('http://b');
    lb.markDown('http://b');
    expect(await lb.pick('svc')).toBe('http://a');
  });

  it('skips an instance marked down until its time passes', async () => {
    const lb = new LoadBalancer(source([inst('a', ''), inst('b', '')]), { downForMs: 50 });
    lb.markDown('http://a');
    expect(await lb.pick('svc')).toBe('http://b');
    expect(await lb.pick('svc')).toBe('http://b');
    await new Promise((r) => setTimeout(r, 60));
    const picks = new Set([await lb.pick('svc'), await lb.pick('svc')]);
    expect(picks).toEqual(new Set(['http://a', 'http://b']));
  });

  it('answers NoInstanceError when nothing is healthy', async () => {
    const lb = new LoadBalancer(source([inst('a', '', false)]));
    await expect(lb.pick('svc')).rejects.toBeInstanceOf(NoInstanceError);
  });

  it('reads a static list from <SERVICE>_URL', async () => {
    const reg = new StaticRegistry({ PATIENT_URL: 'http://p1:8080, http://p2:8080' });
    expect((await instancesOf(reg, 'patient')).map((i) => i.url)).toEqual([
      'http://p1:8080',
      'http://p2:8080',
    ]);
    expect(await instancesOf(reg, 'staff')).toEqual([]);
  });

  it('picks at once when the instance list is in memory, in the same rotation as pick', async () => {
    const env = { SVC_URL: 'http://a,http://b' };
    const lb = new LoadBalancer(new ChainedSource([new StaticRegistry(env)]), { downForMs: 60_000 });
    expect([pickedAtOnce(lb, 'svc'), await lb.pick('svc'), pickedAtOnce(lb, 'svc')]).toEqual([
      'http://a',
      'http://b',
      'http://a',
    ]);
    lb.markDown('http://b');
    expect([pickedAtOnce(lb, 'svc'), pickedAtOnce(lb, 'svc')]).toEqual(['http://a', 'http://a']);
    lb.markDown('http://a');
    expect(pickedAtOnce(lb, 'svc')).toBeInstanceOf(NoInstanceError);
    await expect(lb.pick('svc')).rejects.toBeInstanceOf(NoInstanceError);
    // a changed list is read again
    env.SVC_URL = 'http://c';
    expect(pickedAtOnce(lb, 'svc')).toBe('http://c');
  });

  it('calls back later while a source has nothing fresh in memory, then at once while it is held', async () => {
    const store = new MemoryStore();
    try {
      const registry = new ServiceRegistry(store, { cacheMs: 60_000 });
      const lb = new LoadBalancer(new ChainedSource([registry, new StaticRegistry({})]));
      await registry.register(inst('r1', ''));
      // the registry has not been read yet: the answer comes once it is
      expect(pickedAtOnce(lb, 'svc')).toBeUndefined();
      expect(await lb.pick('svc')).toBe('http://r1');
      // read once, it is held for cacheMs
      expect(pickedAtOnce(lb, 'svc')).toBe('http://r1');
      await registry.stop();
    } finally {
      await store.close();
    }
  });
});
