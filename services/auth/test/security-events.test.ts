import { assertValidEvent } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  ANY_STRING,
  adminToken,
  createUser,
  login,
  newIp,
  newUser,
  outbox,
  type AuthUnderTest,
} from './helpers.js';

/**
 * Issue #17, suspicion "auth.login-failed.v1 carries the typed username": what someone typed as a
 * username (sometimes a password in the wrong field) must not fan out to every consumer.
 * `auth.login-failed.v2` says whether the name matched a user and which; `auth.throttled.v1`
 * leaves the name out; no subject carries it either.
 */

let svc: AuthUnderTest;
let admin: string;

useAuth({ LOGIN_MAX_FAILURES_PER_USERNAME: '2', LOGIN_MAX_FAILURES_PER_IP: '100000' }, async (s) => {
  svc = s;
  admin = await adminToken(svc);
});

describe('failed-login events', () => {
  it('a password typed as the username appears in no event, subject or throttle event', async () => {
    const typed = 'Tr0ub4dor-and-3-secret';
    const ip = newIp();
    for (let i = 0; i < 2; i++) expect((await login(svc, typed, 'whatever-password-1', ip)).status).toBe(401);
    expect((await login(svc, typed, 'whatever-password-1', ip)).status).toBe(429);

    const rows = await outbox(svc);
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(typed.toLowerCase());
    expect(await outbox(svc, 'auth.login-failed.v1')).toEqual([]);
    const failed = (await outbox(svc, 'auth.login-failed.v2')).filter((r) => r.envelope.data.ip === ip);
    expect(failed.map((r) => r.subject)).toEqual([`ip:${ip}`, `ip:${ip}`]);
    for (const r of failed) {
      assertValidEvent(r.envelope);
      expect(r.envelope.data).toEqual({
        userMatched: false,
        reason: 'invalid_credentials',
        ip,
        at: ANY_STRING,
      });
    }
    const throttled = (await outbox(svc, 'auth.throttled.v1')).filter((r) => r.envelope.data.ip === ip);
    expect(throttled.map((r) => [r.subject, r.envelope.data])).toEqual([
      [`ip:${ip}`, { scope: 'username', ip, retryAfterSec: expect.any(Number) as number, at: ANY_STRING }],
    ]);
  });

  it('a known user is named by id only: userMatched, userId, and the id as subject', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const ip = newIp();
    expect((await login(svc, input.username.toUpperCase(), 'a-wrong-password-1', ip)).status).toBe(401);
    const disabled = newUser({ status: 'disabled' });
    const off = await createUser(svc, admin, disabled);
    expect((await login(svc, disabled.username, disabled.password, ip)).status).toBe(401);

    const failed = (await outbox(svc, 'auth.login-failed.v2')).filter((r) => r.envelope.data.ip === ip);
    expect(failed.map((r) => [r.subject, r.envelope.data])).toEqual([
      [user.id, { userMatched: true, userId: user.id, reason: 'invalid_credentials', ip, at: ANY_STRING }],
      [off.id, { userMatched: true, userId: off.id, reason: 'account_disabled', ip, at: ANY_STRING }],
    ]);
    for (const r of failed) assertValidEvent(r.envelope);
    expect(JSON.stringify(failed)).not.toContain(input.username.toUpperCase());
  });
});
