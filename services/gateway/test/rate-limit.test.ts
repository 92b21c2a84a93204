import { patientService } from '@hms/patient';
import {
  createTestKeys,
  createTestStore,
  startService,
  type ApiResponse,
  type RunningService,
  type TestKeys,
  type TestStore,
  testRedisUrl,
} from '@hms/testkit';
import { MemoryStore } from '@hms/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayService } from '../src/service.js';
import { authStub } from './fixtures/auth-stub.js';
import { expectProblem } from '@hms/testkit/vitest';
import { PATIENTS, STARTUP_MS, gatewayEnv, uniqueWord } from './helpers.js';

let keys: TestKeys;
let store: TestStore;
let patient: RunningService;
let auth: RunningService;
/** Two replicas of the gateway, sharing one store (Redis when TEST_REDIS_URL is set). */
let replicas: [RunningService, RunningService];
let prefix: string;

beforeAll(async () => {
  keys = await createTestKeys();
  store = await createTestStore();
  [patient, auth] = await Promise.all([
    startService(patientService, { keys, store: store.store }),
    startService(authStub, { keys, store: store.store }),
  ]);
  ({ prefix, replicas } = await startReplicas({
    RATE_LIMIT_AUTH: '10/60',
    RATE_LIMIT_PRINCIPAL: '5/60',
    RATE_LIMIT_IP: '20/60',
  }));
}, STARTUP_MS);

/** Two gateway replicas on the shared store, with their own rate-limit keys and these budgets. */
async function startReplicas(budgets: Record<string, string>) {
  const env = gatewayEnv({
    PATIENT_URL: patient.url,
    AUTH_URL: auth.url,
    // the tests stand behind a proxy at 127.0.0.1, so each can be its own client IP
    GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    ...budgets,
  });
  const [a, b] = await Promise.all([
    startService(gatewayService, { keys, store: store.store, env }),
    startService(gatewayService, { keys, store: store.store, env }),
  ]);
  return { prefix: env.RATE_LIMIT_PREFIX as string, replicas: [a, b] as [RunningService, RunningService] };
}
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await Promise.all([patient.close(), auth.close()]);
  await store.close();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

/** Sends `count` requests alternately through both replicas; answers every response in order. */
async function alternate(count: number, send: (gw: RunningService) => Promise<ApiResponse>) {
  const out: ApiResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await send(replicas[i % 2] as RunningService));
  return out;
}

function expectLimited(res: ApiResponse, limit: number) {
  const problem = expectProblem(res, 429);
  expect(problem.code).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
  const reset = Number(res.headers.get('ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(60);
}

describe('rate limits shared by every gateway replica', () => {
  it('holds the login budget across both replicas: 10 pass, the 11th is 429', async () => {
    const ip = '203.0.113.1';
    const responses = await alternate(10, (gw) =>
      gw.request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    // the auth budget is the tightest one, so it is the one reported, counting down across replicas
    expect(responses.map((r) => r.headers.get('ratelimit-limit'))).toEqual(Array(10).fill('10'));
    expect(responses.map((r) => Number(r.headers.get('ratelimit-remaining')))).toEqual([
      9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    ]);
    const before = await auth.manage<string>('GET', '/metrics');
    const eleventh = await replicas[0].request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) });
    expectLimited(eleventh, 10);
    const twelfth = await replicas[1].request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) });
    expectLimited(twelfth, 10);
    // the refused calls never reached the auth service
    const after = await auth.manage<string>('GET', '/metrics');
    const logins = (text: string) =>
      text
        .split('\n')
        .filter(
          (l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('/api/v1/auth/login'),
        );
    expect(logins(after.body)).toEqual(logins(before.body));
  });

  it('gives another client IP its own login budget', async () => {
    const res = await replicas[1].request('POST', '/api/v1/auth/login', {
      body: {},
      headers: from('203.0.113.4'),
    });
    expect(res.status).toBe(200);
  });

  it('holds the per-principal budget across both replicas, and not for another principal', async () => {
    const ip = '203.0.113.2';
    const token = await keys.mint({ roles: ['nurse'] });
    const responses = await alternate(5, (gw) => gw.request('GET', PATIENTS, { token, headers: from(ip) }));
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200));
    expectLimited(await replicas[0].request('GET', PATIENTS, { token, headers: from(ip) }), 5);
    expectLimited(await replicas[1].request('GET', PATIENTS, { token, headers: from(ip) }), 5);
    // same IP, another person
    const other = await keys.mint({ roles: ['nurse'] });
    expect((await replicas[1].request('GET', PATIENTS, { token: other, headers: from(ip) })).status).toBe(
      200,
    );
  });

  it('holds the per-IP budget for anonymous callers across both replicas', async () => {
    const ip = '203.0.113.3';
    const responses = await alternate(20, (gw) =>
      gw.request('GET', '/.well-known/jwks.json', { headers: from(ip) }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expectLimited(await replicas[1].request('GET', '/.well-known/jwks.json', { headers: from(ip) }), 20);
  });

  it('limits before authenticating: a flood of bad tokens from one IP is cut off too', async () => {
    const ip = '203.0.113.5';
    const statuses = (
      await alternate(21, (gw) => gw.request('GET', PATIENTS, { token: 'garbage', headers: from(ip) }))
    ).map((r) => r.status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses[20]).toBe(429);
  });

  // without TEST_REDIS_URL the store is the memory one (testRedisUrl() throws instead under CI)
  it.skipIf(testRedisUrl() === undefined)(
    'keeps the counters in Redis, where every replica sees them',
    async () => {
      expect(store.store.kind).toBe('redis');
      const keysInRedis = [...(await store.store.scan(`${prefix}:`)).keys()];
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:auth`))).toBe(true);
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:principal`))).toBe(true);
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:ip`))).toBe(true);
    },
  );
});

describe('reservations of a large shared budget (Redis)', () => {
  let pair: [RunningService, RunningService];
  let leasePrefix: string;
  beforeAll(async () => {
    ({ prefix: leasePrefix, replicas: pair } = await startReplicas({
      RATE_LIMIT_PRINCIPAL: '100/60',
      RATE_LIMIT_IP: '100000/60',
      RATE_LIMIT_LEASE_MAX: '4',
    }));
  }, STARTUP_MS);
  afterAll(async () => {
    await Promise.all(pair.map((r) => r.close()));
  });

  it.skipIf(testRedisUrl() === undefined)(
    'a replica reserves several units in Redis at once, and both together let exactly the limit through',
    async () => {
      const sub = `lease-${uniqueWord()}`;
      const token = await keys.mint({ roles: ['nurse'], sub });
      const headers = from('203.0.113.9');
      const counter = async () => Number(await store.store.get(`${leasePrefix}:principal:${sub}`));

      const first = await pair[0].request('GET', PATIENTS, { token, headers });
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-remaining')).toBe('99');
      // a sixteenth of 100 is 6, capped at RATE_LIMIT_LEASE_MAX: 4 units counted in Redis at once
      expect(await counter()).toBe(4);
      // the second spends the reservation down to half: the next one is taken in the background,
      // before any request has to wait for it
      const second = await pair[0].request('GET', PATIENTS, { token, headers });
      expect(second.status).toBe(200);
      expect(second.headers.get('ratelimit-remaining')).toBe('98');
      await expect.poll(counter).toBe(8);
      // the next two on the same replica are spent from what it holds: Redis is not asked
      for (let i = 0; i < 2; i++)
        expect((await pair[0].request('GET', PATIENTS, { token, headers })).status).toBe(200);
      expect(await counter()).toBe(8);

      const statuses: number[] = [];
      for (let i = 0; i < 140; i++)
        statuses.push(
          (await (pair[i % 2] as RunningService).request('GET', PATIENTS, { token, headers })).status,
        );
      // 4 above plus 96 here: never more than the limit, and nothing reserved is left unspent
      // when requests keep coming through both replicas
      expect(statuses.filter((s) => s === 200).length).toBe(96);
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      expect(await counter()).toBe(100);
      for (const gw of pair) expectLimited(await gw.request('GET', PATIENTS, { token, headers }), 100);
    },
  );
});

describe('when the rate-limit store fails', () => {
  it('each replica goes on counting on its own instead of letting everything through', async () => {
    // a store that answers everything but rate limits, as Redis does when a command times out
    const failing = new MemoryStore();
    failing.takeBudget = () => Promise.reject(new Error('connection lost'));
    const gw = await startService(gatewayService, {
      keys,
      store: failing,
      env: gatewayEnv({
        PATIENT_URL: patient.url,
        AUTH_URL: auth.url,
        GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
        RATE_LIMIT_IP: '3/60',
      }),
    });
    try {
      const headers = from('203.0.113.10');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await gw.request('GET', '/.well-known/jwks.json', { headers })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await gw.close();
      await failing.close();
    }
  });
});
