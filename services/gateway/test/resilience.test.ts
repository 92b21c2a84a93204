import { createServer, type Server, type Socket } from 'node:net';
import { patientService } from '@hms/patient';
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
import { authStub, flakyTries } from './fixtures/auth-stub.js';
import { expectProblem } from '@hms/testkit/vitest';
import { PATIENTS, STARTUP_MS, gatewayEnv, metric } from './helpers.js';

const TIMEOUT_MS = 1500;
let keys: TestKeys;
let store: TestStore;
let patient: RunningService;
let auth: RunningService;
let gateway: RunningService;
/** Accepts connections and never answers. */
let blackhole: Server;
const held: Socket[] = [];
/** A port nothing listens on. */
let deadPort: number;
let token: string;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

beforeAll(async () => {
  keys = await createTestKeys();
  store = await createTestStore();
  [patient, auth] = await Promise.all([
    startService(patientService, { keys, store: store.store }),
    startService(authStub, { keys, store: store.store }),
  ]);
  blackhole = createServer((socket) => held.push(socket));
  const blackholePort = await listen(blackhole);
  const probe = createServer();
  deadPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  gateway = await startService(gatewayService, {
    keys,
    store: store.store,
    env: gatewayEnv({
      PATIENT_URL: patient.url,
      AUTH_URL: auth.url,
      STAFF_URL: `http://127.0.0.1:${blackholePort}`,
      APPOINTMENT_URL: `http://127.0.0.1:${deadPort}`,
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
      UPSTREAM_TIMEOUT_MAX_MS: '3000',
      UPSTREAM_BREAKER_THRESHOLD: '3',
      UPSTREAM_BREAKER_HALF_OPEN_MS: '30000',
      UPSTREAM_MAX_CONCURRENT: '2',
      UPSTREAM_MAX_QUEUED: '0',
    }),
  });
  token = await keys.mint({ roles: ['admin'] });
  // first calls pay for connections and schema compilation; not what the timeouts are about
  expect((await patient.request('GET', PATIENTS, { token })).status).toBe(200);
  expect((await auth.request('GET', '/api/v1/auth/slow')).status).toBe(200);
}, STARTUP_MS);
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((resolve) => blackhole.close(resolve));
  await gateway.close();
  await auth.close();
  await store.close();
});

const breaker = (upstream: string) => metric(gateway, 'circuit_breaker_state', { upstream });

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

describe('an upstream that does not answer', () => {
  it('answers 503 with Retry-After when nothing listens at the service’s address', async () => {
    const { value: res, ms } = await timed(() => gateway.request('GET', '/api/v1/appointments', { token }));
    const problem = expectProblem(res, 503);
    expect(problem.upstream).toBe('appointment');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it('answers 503 with Retry-After within the timeout when the service accepts and never answers', async () => {
    const { value: res, ms } = await timed(() => gateway.request('GET', '/api/v1/staff', { token }));
    const problem = expectProblem(res, 503);
    expect(problem.detail).toBe('staff did not answer in time');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // (the wait may have begun before the request: its routes were being read since start;
    // the slack is for a busy machine's scheduling)
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });
});

describe('the bulkhead', () => {
  it('answers 503 with Retry-After to what does not fit, and serves the rest', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => gateway.request<{ detail?: string }>('GET', '/api/v1/auth/slow?ms=400')),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503]);
    const refused = results.find((r) => r.status === 503);
    expect(expectProblem(refused as NonNullable<typeof refused>, 503).detail).toBe(
      'auth is busy (too many requests in flight)',
    );
    expect(refused?.headers.get('retry-after')).toBe('1');
    // a refusal by the bulkhead is not the service failing: its breaker stays closed
    expect(await breaker('auth')).toBe(0);
  });
});

describe('a client that hangs up', () => {
  it('is not counted against the service: its breaker stays closed', async () => {
    for (let i = 0; i < 4; i++) {
      const gaveUp = await fetch(`${gateway.url}/api/v1/auth/slow?ms=1000`, {
        signal: AbortSignal.timeout(100),
      }).catch((err: unknown) => err as Error);
      expect(gaveUp).toBeInstanceOf(Error);
    }
    expect(await breaker('auth')).toBe(0);
    expect((await gateway.request('GET', '/api/v1/auth/slow')).status).toBe(200);
    expect(
      await metric(gateway, 'http_client_requests_total', { upstream: 'auth', outcome: 'client_gone' }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('a service that dies', () => {
  it('answers 503 with Retry-After within the timeout, then opens the breaker (metric) and fails fast', async () => {
    expect((await gateway.request('GET', PATIENTS, { token })).status).toBe(200);
    expect(await breaker('patient')).toBe(0); // closed

    await patient.close();

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { value: res, ms } = await timed(() => gateway.request('GET', PATIENTS, { token }));
      expectProblem(res, 503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(ms).toBeLessThan(TIMEOUT_MS);
      statuses.push(res.status);
    }
    expect(await breaker('patient')).toBe(2); // open

    const { value: fast, ms } = await timed(() => gateway.request('GET', PATIENTS, { token }));
    const problem = expectProblem(fast, 503);
    expect(problem.detail).toBe('patient is unavailable (circuit open)');
    expect(fast.headers.get('retry-after')).toBe('30');
    expect(ms).toBeLessThan(500); // no wait for a connection or the timeout
    const opened = await metric(gateway, 'http_client_requests_total', {
      upstream: 'patient',
      outcome: 'circuit_open',
    });
    expect(opened).toBeGreaterThanOrEqual(1);
  });

  it('keeps other upstreams’ breakers apart', async () => {
    expect(await breaker('staff')).toBe(0);
  });
});

describe('the retry rule at the gateway (ADR 0020)', () => {
  const retries = () => metric(gateway, 'http_client_retries_total', { upstream: 'auth', reason: '503' });

  it('sends a GET answered 503 without Retry-After again, and answers what the second try got', async () => {
    const before = await retries();
    const res = await gateway.request<{ ok: boolean; tries: number }>(
      'GET',
      '/api/v1/auth/flaky/get-once?fail=1',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, tries: 2 });
    expect(flakyTries.get('GET get-once')).toBe(2);
    expect(await retries()).toBe(before + 1);
  });

  it('lets go of a streamed 503 it sends again, and answers the next try', async () => {
    const before = await retries();
    const res = await gateway.request<{ ok: boolean; tries: number }>(
      'GET',
      '/api/v1/auth/flaky/streamed?fail=1&streamed=true',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, tries: 2 });
    expect(await retries()).toBe(before + 1);
  });

  it('passes a 503 that says when to come back through at once, its Retry-After kept', async () => {
    const res = await gateway.request('GET', '/api/v1/auth/flaky/says-when?fail=1&saysWhen=true');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('9');
    expect(flakyTries.get('GET says-when')).toBe(1);
  });

  it('never sends a POST again', async () => {
    const res = await gateway.request('POST', '/api/v1/auth/flaky/post-once?fail=1', { body: {} });
    expect(res.status).toBe(503);
    expect(flakyTries.get('POST post-once')).toBe(1);
    // the upstream answers again: its breaker sees a success after the two failed calls above
    expect((await gateway.request('GET', '/api/v1/auth/flaky/post-once?fail=0')).status).toBe(200);
  });

  it('stops at the retries allowed (two), answering the last 503', async () => {
    const res = await gateway.request('GET', '/api/v1/auth/flaky/always?fail=99');
    expect(res.status).toBe(503);
    expect(flakyTries.get('GET always')).toBe(3);
    expect((await gateway.request('GET', '/api/v1/auth/flaky/always-after?fail=0')).status).toBe(200);
  });
});

describe('an operation that says how long it may take (x-timeout-ms)', () => {
  it('gets its time where another operation times out, and no more than the gateway allows', async () => {
    // the same wait (2.5 s) on three operations: the default timeout is 1.5 s, the gateway's most 3 s
    expectProblem(await gateway.request('GET', '/api/v1/auth/slow?ms=2500'), 503);
    const declared = await gateway.request('GET', '/api/v1/auth/slow-declared?ms=2500');
    expect(declared.status).toBe(200);
    // declares 60 s, gets the gateway's 3 s: a 503 (the answer comes at 4 s), not before 3 s
    const over = await timed(() => gateway.request('GET', '/api/v1/auth/slow-over-max?ms=4000'));
    expectProblem(over.value, 503);
    expect(over.ms).toBeGreaterThanOrEqual(2900);
  });
});
