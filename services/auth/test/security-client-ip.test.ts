import { expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { useAuth, ADMIN, login, type AuthUnderTest } from './helpers.js';

/**
 * Issue #17, finding 3: the per-address login throttle counts the client the gateway resolved,
 * which the gateway writes as the right-most (now the only) X-Forwarded-For entry. Auth believes
 * that entry from its trusted proxies and nothing further left, whoever wrote it; IPv6 clients
 * count by their /64.
 */

let svc: AuthUnderTest;

useAuth(
  {
    // loopback is the gateway; 192.0.2.0/24 is a further hop an operator also listed
    TRUSTED_PROXIES: '127.0.0.1,::1,192.0.2.0/24',
    LOGIN_MAX_FAILURES_PER_IP: '20',
    LOGIN_MAX_FAILURES_PER_USERNAME: '100000',
  },
  async (s) => {
    svc = s;
  },
);

let n = 0;
const unknownName = () => `nobody-${Date.now().toString(36)}-${++n}`;
const badLogin = (forwardedFor: string) => login(svc, unknownName(), 'not-the-right-password', forwardedFor);
const goodLogin = (forwardedFor: string) => login(svc, ADMIN.username, ADMIN.password, forwardedFor);

describe('the per-address login throttle behind the gateway', () => {
  it('counts each client the gateway resolved: 20 bad logins from each of two clients do not throttle a third', async () => {
    // after the gateway fix, a client behind the balancer arrives as X-Forwarded-For: <client>
    const [a, b, c] = ['203.0.113.11', '203.0.113.12', '203.0.113.13'];
    for (let i = 0; i < 20; i++) {
      expectProblem(await badLogin(a), 401);
      expectProblem(await badLogin(b), 401);
    }
    expect(expectProblem(await goodLogin(a), 429).code).toBe('login_throttled');
    expectProblem(await goodLogin(b), 429);
    expect((await goodLogin(c)).status).toBe(200);
  });

  it('keys on the right-most X-Forwarded-For entry only: entries further left are whatever the client sent', async () => {
    // the right-most entry is a listed proxy's own address: auth stops there rather than walk
    // further left into addresses the caller chose
    for (let i = 0; i < 20; i++) expectProblem(await badLogin(`198.51.100.${i + 1}, 192.0.2.7`), 401);
    const res = await goodLogin('198.51.100.200, 192.0.2.7');
    expect(expectProblem(res, 429).code).toBe('login_throttled');
    // another right-most entry is another counter, whatever is on its left
    expect((await goodLogin('198.51.100.1, 192.0.2.8')).status).toBe(200);
    expect((await goodLogin('192.0.2.7, 203.0.113.99')).status).toBe(200);
  });

  it('counts IPv6 clients by /64: two addresses of one /64 share one throttle', async () => {
    for (let i = 0; i < 10; i++) {
      expectProblem(await badLogin('2001:db8:aa:1::1'), 401);
      expectProblem(await badLogin(`2001:db8:aa:1:${(i + 1).toString(16)}::2`), 401);
    }
    expectProblem(await goodLogin('2001:db8:aa:1:ffff:ffff:ffff:fffe'), 429);
    expect((await goodLogin('2001:db8:aa:2::1')).status).toBe(200);
  });
});
