import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { permissionsOf } from '@hms/contracts';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  ANY_STRING,
  ADMIN,
  AUTH,
  USERS,
  adminToken,
  comparable,
  createUser,
  login,
  loginOk,
  newIp,
  newUser,
  outbox,
  type AuthUnderTest,
} from './helpers.js';

let svc: AuthUnderTest;
let admin: string;

useAuth(
  {
    ACCESS_TOKEN_TTL_SEC: '600',
    LOGIN_MAX_FAILURES_PER_USERNAME: '3',
    LOGIN_MAX_FAILURES_PER_IP: '5',
    LOGIN_FAILURE_WINDOW_SEC: '120',
  },
  async (s) => {
    svc = s;
    admin = await adminToken(svc);
  },
);

async function jwks() {
  const res = await svc.request<{ keys: JWK[] }>('GET', '/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return res.body;
}

describe('POST /auth/login', () => {
  it('answers an ES256 access token with the documented claims and an opaque refresh token', async () => {
    const staffId = '01900000-0000-7000-8000-0000000000aa';
    const user = await createUser(svc, admin, newUser({ roles: ['physician', 'nurse'], staffId }));
    const res = await login(svc, user.username, `pw-${user.username}-long-enough`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.expires_in).toBe(600);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const header = decodeProtectedHeader(res.body.access_token);
    expect(header.alg).toBe('ES256');
    const keys = await jwks();
    expect(keys.keys.map((k) => k.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(res.body.access_token, createLocalJWKSet(keys), {
      issuer: 'hms-auth',
      audience: 'hms',
    });
    expect(payload.sub).toBe(user.id);
    expect(payload.roles).toEqual(['physician', 'nurse']);
    expect(String(payload.scope).split(' ').sort()).toEqual(
      [...permissionsOf(['physician', 'nurse'])].sort(),
    );
    expect(payload.staff_id).toBe(staffId);
    expect(typeof payload.jti).toBe('string');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(600);
  });

  it('leaves staff_id out of the token of a user without a staff link', async () => {
    const user = await createUser(svc, admin, newUser({ roles: ['billing'] }));
    const pair = await loginOk(svc, user.username, `pw-${user.username}-long-enough`);
    expect(decodeJwt(pair.access_token)).not.toHaveProperty('staff_id');
  });

  it('accepts the username in any letter case', async () => {
    const pair = await loginOk(svc, ADMIN.username.toUpperCase(), ADMIN.password);
    expect(decodeJwt(pair.access_token).roles).toEqual(['admin']);
  });

  it('answers the same 401 problem for an unknown user and for a wrong password', async () => {
    const unknown = await login(svc, 'nobody-by-this-name', 'whatever-password-1');
    const wrong = await login(svc, ADMIN.username, 'not-the-right-password');
    const a = expectProblem(unknown, 401);
    const b = expectProblem(wrong, 401);
    expect(a.code).toBe('invalid_credentials');
    expect(comparable(a)).toEqual(comparable(b));
    expect(unknown.body).toEqual(wrong.body);
    expect([...unknown.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id').sort()).toEqual(
      [...wrong.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id').sort(),
    );
  });

  it('answers the same 401 for a disabled or locked account, even with the right password', async () => {
    const wrong = expectProblem(await login(svc, ADMIN.username, 'not-the-right-password'), 401);
    for (const status of ['disabled', 'locked']) {
      const input = newUser({ status });
      await createUser(svc, admin, input);
      const res = await login(svc, input.username, input.password);
      expect(expectProblem(res, 401)).toEqual(wrong);
    }
  });

  it('takes about as long for an unknown user as for a wrong password (an argon2 verify either way)', async () => {
    const time = async (username: string) => {
      const start = performance.now();
      await login(svc, username, 'not-the-right-password');
      return performance.now() - start;
    };
    await time('warm-up-user');
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 3; i++) {
      unknown.push(await time(`unknown-${i}-${Date.now()}`));
      const u = newUser();
      await createUser(svc, admin, u);
      known.push(await time(u.username));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1] ?? 0;
    // an argon2id verify costs tens of milliseconds; skipping it would make unknown users fast
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });

  it('records failed logins on the user and resets them on success', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    await login(svc, input.username, 'wrong-password-here');
    await login(svc, input.username, 'wrong-password-here');
    let read = await svc.request<{ failedLogins: number }>('GET', `${USERS}/${user.id}`, { token: admin });
    expect(read.body.failedLogins).toBe(2);
    await loginOk(svc, input.username, input.password);
    read = await svc.request<{ failedLogins: number; lastLoginAt?: string }>('GET', `${USERS}/${user.id}`, {
      token: admin,
    });
    expect(read.body).toMatchObject({ failedLogins: 0 });
    expect(read.body).toHaveProperty('lastLoginAt');
  });

  it.each([
    ['no body', undefined, '/body'],
    ['no password', { username: 'someone' }, '/body/password'],
    ['no username', { password: 'x'.repeat(12) }, '/body/username'],
    ['an empty password', { username: 'someone', password: '' }, '/body/password'],
    ['an unknown field', { username: 'someone', password: 'x'.repeat(12), remember: true }, '/body/remember'],
    ['a username too long', { username: 'u'.repeat(257), password: 'x'.repeat(12) }, '/body/username'],
    ['a username no user can have', { username: 'l\u0130z', password: 'x'.repeat(12) }, '/body/username'],
  ])('answers 400 with the bad field for %s', async (_what, body, path) => {
    const res = await svc.request('POST', `${AUTH}/login`, body === undefined ? {} : { body });
    const errors = expectValidationErrors(res);
    if (body !== undefined) expect(errors.map((e) => e.path)).toContain(path);
  });

  it('writes auth.login-succeeded.v1 and auth.login-failed.v2 events', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const ip = newIp();
    await login(svc, input.username, 'wrong-password-here', ip);
    await login(svc, input.username, input.password, ip);
    // v2 (issue #17): whether the name matched a user, and which; never the name typed
    const failed = (await outbox(svc, 'auth.login-failed.v2')).filter((r) => r.subject === user.id);
    expect(failed.map((r) => r.envelope.data)).toEqual([
      {
        userMatched: true,
        userId: user.id,
        reason: 'invalid_credentials',
        ip,
        at: ANY_STRING,
      },
    ]);
    const ok = (await outbox(svc, 'auth.login-succeeded.v1')).filter((r) => r.subject === user.id);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.envelope.data).toMatchObject({ userId: user.id, username: input.username, ip });
  });
});

describe('throttling', () => {
  it('after N failures for one username answers 429 with Retry-After, even with the right password', async () => {
    const input = newUser();
    await createUser(svc, admin, input);
    for (let i = 0; i < 3; i++)
      expectProblem(await login(svc, input.username, `wrong-password-${i}`, newIp()), 401);
    const res = await login(svc, input.username, input.password, newIp());
    expect(expectProblem(res, 429).code).toBe('login_throttled');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
    // the username's counter does not depend on the letter case typed
    expectProblem(await login(svc, input.username.toUpperCase(), input.password, newIp()), 429);
  });

  it('treats an unknown username exactly like a known one', async () => {
    const known = newUser();
    await createUser(svc, admin, known);
    const unknownName = `ghost-${Date.now()}`;
    const answers = async (username: string) => {
      const out: { status: number; body: unknown; retryAfter: string | null }[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await login(svc, username, `wrong-password-${i}`, newIp());
        out.push({
          status: res.status,
          body: { ...(res.body as object), instance: undefined },
          retryAfter: res.headers.get('retry-after') === null ? null : 'set',
        });
      }
      return out;
    };
    const a = await answers(known.username);
    const b = await answers(unknownName);
    expect(a).toEqual(b);
    expect(a.map((x) => x.status)).toEqual([401, 401, 401, 429]);
    expect(a[3]?.retryAfter).toBe('set');
  });

  it('after N failures from one address answers 429 for any username from it, not from others', async () => {
    const ip = newIp();
    for (let i = 0; i < 5; i++)
      expectProblem(await login(svc, `someone-${i}-${Date.now()}`, 'wrong-password-x', ip), 401);
    const blocked = await login(svc, ADMIN.username, ADMIN.password, ip);
    expectProblem(blocked, 429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(svc, ADMIN.username, ADMIN.password, newIp())).status).toBe(200);
  });

  it('publishes auth.throttled.v1 once when a throttle starts, without the password', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    for (let i = 0; i < 5; i++) await login(svc, input.username, `wrong-password-${i}`, newIp());
    const events = (await outbox(svc, 'auth.throttled.v1')).filter((r) => r.subject === user.id);
    expect(events).toHaveLength(1);
    // without the name typed (issue #17): the subject is the user's id
    expect(events[0]?.envelope.data).toEqual({
      scope: 'username',
      ip: ANY_STRING,
      retryAfterSec: expect.any(Number) as number,
      at: ANY_STRING,
    });
    expect(JSON.stringify(events)).not.toContain('wrong-password');
    expect(JSON.stringify(events)).not.toContain(input.username);
  });

  it('a successful login clears the failures counted for the username', async () => {
    const input = newUser();
    await createUser(svc, admin, input);
    for (let i = 0; i < 2; i++) await login(svc, input.username, 'wrong-password-x', newIp());
    await loginOk(svc, input.username, input.password);
    for (let i = 0; i < 2; i++)
      expectProblem(await login(svc, input.username, 'wrong-password-x', newIp()), 401);
    await loginOk(svc, input.username, input.password);
  });
});
