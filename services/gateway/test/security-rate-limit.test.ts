import { connect } from 'node:net';
import type { ApiResponse } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUB_CLIENT_SECRET } from './fixtures/auth-stub.js';
import { expectProblem } from '@hms/testkit/vitest';
import { STARTUP_MS, served, startStack, type Stack } from './helpers.js';

/**
 * Issue #17: the rate-limit budgets an attacker could step around. The test client plays a load
 * balancer the gateway trusts (loopback), so each test names its own client address in
 * X-Forwarded-For.
 */
const AUTH_LIMIT = 10;
const IP_LIMIT = 20;

let s: Stack;

beforeAll(async () => {
  s = await startStack({
    GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    RATE_LIMIT_AUTH: `${AUTH_LIMIT}/60`,
    RATE_LIMIT_IP: `${IP_LIMIT}/60`,
  });
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

function expectLimited(res: ApiResponse, limit: number) {
  expect(expectProblem(res, 429).code).toBe('rate_limited');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
}

describe('the auth group cannot be left by percent-encoding its paths', () => {
  // each spelling from its own client address, so each starts with a full budget
  it.each([
    ['/api/v1/auth/login', '198.51.100.10'],
    ['/api/v1/auth/logi%6E', '198.51.100.11'],
    ['/api/v1/auth/%6Cogin', '198.51.100.12'],
    ['/api/v1/auth/%6c%6F%67%69n', '198.51.100.13'], // mixed-case hex
    ['/api/v1/auth/login?next=%2F', '198.51.100.14'],
  ])('%s reaches login on the auth budget: 10 pass, the 11th is 429', async (path, ip) => {
    const reachedBefore = await served(s.auth, '/api/v1/auth/login', 'POST');
    const responses: ApiResponse[] = [];
    for (let i = 0; i < AUTH_LIMIT; i++)
      responses.push(await s.gateway.request('POST', path, { body: {}, headers: from(ip) }));
    expect(responses.map((r) => r.status)).toEqual(Array(AUTH_LIMIT).fill(200));
    expect(responses.map((r) => r.headers.get('ratelimit-limit'))).toEqual(
      Array(AUTH_LIMIT).fill(String(AUTH_LIMIT)),
    );
    // the spelling is the login route to the service: every one of them reached its handler
    expect(await served(s.auth, '/api/v1/auth/login', 'POST')).toBe(reachedBefore + AUTH_LIMIT);
    expectLimited(await s.gateway.request('POST', path, { body: {}, headers: from(ip) }), AUTH_LIMIT);
    // and the plain spelling from that address is out of budget too: one budget, not one per spelling
    expectLimited(
      await s.gateway.request('POST', '/api/v1/auth/login', { body: {}, headers: from(ip) }),
      AUTH_LIMIT,
    );
    expect(await served(s.auth, '/api/v1/auth/login', 'POST')).toBe(reachedBefore + AUTH_LIMIT);
  });

  it('cuts off guessing client secrets at /api/v1/auth/toke%6E after 10, as at the plain path', async () => {
    for (const [path, ip] of [
      ['/api/v1/auth/token', '198.51.100.20'],
      ['/api/v1/auth/toke%6E', '198.51.100.21'],
      ['/api/v1/auth/%74oken', '198.51.100.22'],
    ] as const) {
      const guess = (i: number) =>
        s.gateway.request('POST', path, {
          body: { grant_type: 'client_credentials', client_id: 'svc', client_secret: `guess-${i}` },
          headers: from(ip),
        });
      // fewer guesses than the per-address budget, so only the auth budget can refuse them
      const guesses = IP_LIMIT - 5;
      const statuses: number[] = [];
      for (let i = 0; i < guesses; i++) statuses.push((await guess(i)).status);
      // the first ten reach the token endpoint, which refuses the secret; the rest never get there
      expect(statuses, path).toEqual([
        ...Array<number>(AUTH_LIMIT).fill(401),
        ...Array<number>(guesses - AUTH_LIMIT).fill(429),
      ]);
      expectLimited(await guess(guesses), AUTH_LIMIT);
    }
    // the right secret is accepted (what the 401s refused was the secret, not the route)
    const ok = await s.gateway.request('POST', '/api/v1/auth/toke%6E', {
      body: { grant_type: 'client_credentials', client_id: 'svc', client_secret: STUB_CLIENT_SECRET },
      headers: from('198.51.100.23'),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit-limit')).toBe(String(AUTH_LIMIT));
  });

  it('counts an absolute-form request target (POST http://host/api/v1/auth/login) in the auth group', async () => {
    // fetch always sends the origin form: this one is written on the socket by hand
    const { host, hostname, port } = new URL(s.gateway.url);
    const send = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () =>
          socket.write(
            `POST http://${host}/api/v1/auth/login HTTP/1.1\r\nHost: ${host}\r\n` +
              'X-Forwarded-For: 198.51.100.15\r\nContent-Type: application/json\r\nContent-Length: 2\r\n' +
              'Connection: close\r\n\r\n{}',
          ),
        );
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    const heads: string[] = [];
    for (let i = 0; i <= AUTH_LIMIT; i++) heads.push((await send()).split('\r\n\r\n')[0] as string);
    expect(heads.map((h) => h.split('\r\n')[0])).toEqual([
      ...Array<string>(AUTH_LIMIT).fill('HTTP/1.1 200 OK'),
      'HTTP/1.1 429 Too Many Requests',
    ]);
    for (const head of heads) expect(head).toMatch(new RegExp(`^ratelimit-limit: ${AUTH_LIMIT}$`, 'im'));
  });

  it('keeps the general budget for the other routes of the auth service', async () => {
    const res = await s.gateway.request('GET', '/api/v1/auth/echo', { headers: from('198.51.100.30') });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe(String(IP_LIMIT));
  });
});

describe('IPv6 clients are counted by their /64', () => {
  it('two addresses of one /64 share the per-address budget; another /64 has its own', async () => {
    const a = '2001:db8:17:1::1';
    const b = '2001:db8:17:1:8000:dead:beef:2';
    const responses: ApiResponse[] = [];
    for (let i = 0; i < IP_LIMIT; i++)
      responses.push(
        await s.gateway.request('GET', '/.well-known/jwks.json', { headers: from(i % 2 ? b : a) }),
      );
    expect(responses.map((r) => r.status)).toEqual(Array(IP_LIMIT).fill(200));
    expect(responses.map((r) => Number(r.headers.get('ratelimit-remaining')))).toEqual(
      Array.from({ length: IP_LIMIT }, (_, i) => IP_LIMIT - 1 - i),
    );
    for (const ip of [a, b, '2001:db8:17:1:ffff:ffff:ffff:ffff'])
      expectLimited(
        await s.gateway.request('GET', '/.well-known/jwks.json', { headers: from(ip) }),
        IP_LIMIT,
      );
    const other = await s.gateway.request('GET', '/.well-known/jwks.json', {
      headers: from('2001:db8:17:2::1'),
    });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe(String(IP_LIMIT - 1));
  });

  it('two addresses of one /64 share the login budget; another /64 has its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_LIMIT; i++)
      statuses.push(
        (
          await s.gateway.request('POST', '/api/v1/auth/login', {
            body: {},
            headers: from(`2001:db8:17:3::${(i + 1).toString(16)}`),
          })
        ).status,
      );
    expect(statuses).toEqual(Array(AUTH_LIMIT).fill(200));
    expectLimited(
      await s.gateway.request('POST', '/api/v1/auth/login', { body: {}, headers: from('2001:db8:17:3::ff') }),
      AUTH_LIMIT,
    );
    const other = await s.gateway.request('POST', '/api/v1/auth/login', {
      body: {},
      headers: from('2001:db8:17:4::1'),
    });
    expect(other.status).toBe(200);
  });
});
