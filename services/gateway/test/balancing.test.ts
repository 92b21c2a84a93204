import { setTimeout as sleep } from 'node:timers/promises';
import { patientService } from '@hms/patient';
import { ServiceRegistry, instancesOf, registerInstance } from '@hms/platform';
import {
  createTestKeys,
  createTestStore,
  startService,
  type RunningService,
  type TestKeys,
  type TestStore,
} from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayService } from '../src/service.js';
import { PATIENTS, STARTUP_MS, gatewayEnv, metric, served } from './helpers.js';

const TTL_MS = 1000;
let keys: TestKeys;
let store: TestStore;
/** Two instances of the Patient service, found only through the registry. */
let a: RunningService;
let b: RunningService;
/** Each instance heartbeats through its own registry, so one can die alone. */
let regA: ServiceRegistry;
let regB: ServiceRegistry;
let regDead: ServiceRegistry;
let gateway: RunningService;
/** A second gateway, in zone "b". */
let zoned: RunningService;
let token: string;

beforeAll(async () => {
  keys = await createTestKeys();
  store = await createTestStore();
  [a, b] = await Promise.all([
    startService(patientService, { keys, store: store.store }),
    startService(patientService, { keys, store: store.store }),
  ]);
  regA = new ServiceRegistry(store.store, { ttlMs: TTL_MS, cacheMs: 50 });
  regB = new ServiceRegistry(store.store, { ttlMs: TTL_MS, cacheMs: 50 });
  regDead = new ServiceRegistry(store.store, { ttlMs: TTL_MS, cacheMs: 50 });
  await registerInstance(regA, 'patient', a.url, { zone: 'a' });
  await registerInstance(regB, 'patient', b.url, { zone: 'b' });
  // registered, but its readiness check fails: the registry marks it unhealthy
  await registerInstance(regDead, 'patient', 'http://127.0.0.1:9', { zone: 'a', ready: async () => false });
  [gateway, zoned] = await Promise.all([
    startService(gatewayService, { keys, store: store.store, env: gatewayEnv() }),
    startService(gatewayService, { keys, store: store.store, env: gatewayEnv({ ZONE: 'b' }) }),
  ]);
  token = await keys.mint({ roles: ['nurse'] });
}, STARTUP_MS);
afterAll(async () => {
  await Promise.all([gateway.close(), zoned.close()]);
  await Promise.all([regA.stop(), regB.stop(), regDead.stop()]);
  await a.close();
  await store.close();
});

async function counts() {
  return { a: await served(a, PATIENTS), b: await served(b, PATIENTS) };
}

async function send(gw: RunningService, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await gw.request('GET', PATIENTS, { token })).status);
  return statuses;
}

describe('client-side load balancing over the registry', () => {
  it('knows three instances, one of them unhealthy', async () => {
    const instances = await instancesOf(regA, 'patient');
    expect(instances.map((i) => i.healthy).sort()).toEqual([false, true, true]);
  });

  it('spreads requests round-robin over the healthy instances, never the unhealthy one', async () => {
    const before = await counts();
    expect(await send(gateway, 20)).toEqual(Array(20).fill(200));
    const after = await counts();
    const toA = after.a - before.a;
    const toB = after.b - before.b;
    expect(toA + toB).toBe(20);
    expect(toA).toBeGreaterThanOrEqual(8);
    expect(toB).toBeGreaterThanOrEqual(8);
  });

  it('prefers the instances in its own zone', async () => {
    const before = await counts();
    expect(await send(zoned, 10)).toEqual(Array(10).fill(200));
    const after = await counts();
    expect(after.b - before.b).toBe(10);
    expect(after.a - before.a).toBe(0);
  });

  it('loses no request when an instance dies without deregistering: retried at once, gone after the TTL', async () => {
    await b.close(); // its server is gone…
    await regB.stop(); // …and its heartbeat stops, but its registration stays until the TTL

    const statuses: number[] = [];
    const started = Date.now();
    // during the TTL the registry still lists it; the gateway's GETs go on to the live instance
    while (Date.now() - started < TTL_MS + 500) {
      statuses.push(...(await send(gateway, 1)));
      await sleep(20);
    }
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // the dead instance was tried, refused the connection, and the request went to the other one
    expect(
      await metric(gateway, 'http_client_retries_total', { upstream: 'patient' }),
    ).toBeGreaterThanOrEqual(1);

    await expect
      .poll(async () => (await instancesOf(regA, 'patient')).filter((i) => i.healthy).length, {
        timeout: 5000,
      })
      .toBe(1);
    const before = await served(a, PATIENTS);
    expect(await send(gateway, 10)).toEqual(Array(10).fill(200));
    expect(await served(a, PATIENTS)).toBe(before + 10);
    // the zone-b gateway has no instance left in its zone and uses the other one
    expect(await send(zoned, 5)).toEqual(Array(5).fill(200));
  });
});
