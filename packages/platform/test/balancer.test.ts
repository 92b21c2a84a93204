import { describe, expect, it } from 'vitest';
import {
  LoadBalancer,
  NoInstanceError,
  StaticRegistry,
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

const source = (list: ServiceInstance[]): InstanceSource => ({ instances: async () => list });

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
    expect((await reg.instances('patient')).map((i) => i.url)).toEqual(['http://p1:8080', 'http://p2:8080']);
    expect(await reg.instances('staff')).toEqual([]);
  });
});
