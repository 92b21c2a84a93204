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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayService } from '../src/service.js';
import { authStub } from './fixtures/auth-stub.js';
import { PATIENTS, STARTUP_MS, expectProblem, gatewayEnv } from './helpers.js';

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
  const env = gatewayEnv({
    PATIENT_URL: patient.url,
    AUTH_URL: auth.url,
    // the tests stand behind a proxy at 127.0.0.1, so each can be its own client IP
    GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    RATE_LIMIT_AUTH: '10/60',
    RATE_LIMIT_PRINCIPAL: '5/60',
    RATE_LIMIT_IP: '20/60',
  });
  prefix = env.RATE_LIMIT_PREFIX as string;
  const [a, b] = await Promise.all([
    startService(gatewayService, { keys, store: store.store, env }),
    startService(gatewayService, { keys, store: store.store, env }),
  ]);
  replicas = [a, b];
}, STARTUP_MS);
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
    const before = await auth.request<string>('GET', '/metrics');
    const eleventh = await replicas[0].request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) });
    expectLimited(eleventh, 10);
    const twelfth = await replicas[1].request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) });
    expectLimited(twelfth, 10);
    // the refused calls never reached the auth service
    const after = await auth.request<string>('GET', '/metrics');
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
      const redis = (store.store as unknown as { client: { keys(p: string): Promise<string[]> } }).client;
      const keysInRedis = await redis.keys(`${prefix}:*`);
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:auth`))).toBe(true);
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:principal`))).toBe(true);
      expect(keysInRedis.some((k) => k.startsWith(`${prefix}:ip`))).toBe(true);
    },
  );
});
