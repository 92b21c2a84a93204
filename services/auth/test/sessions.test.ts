import { decodeJwt } from 'jose';
import { patientService } from '@hms/patient';
import { startService, type RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANY_STRING,
  AUTH,
  adminToken,
  createUser,
  eventually,
  loginOk,
  newUser,
  outbox,
  startAuth,
  type AuthUnderTest,
  type TokenPair,
  START_TIMEOUT_MS,
} from './helpers.js';

let svc: AuthUnderTest;
let patient: RunningService;
let admin: string;

beforeAll(async () => {
  svc = await startAuth();
  // a second kit-guarded service, trusting the auth service's keys and sharing its store (deny-list)
  patient = await startService(patientService, { jwksUrl: svc.jwksUrl, store: svc.store });
  admin = await adminToken(svc);
}, START_TIMEOUT_MS);
afterAll(async () => {
  await patient?.close();
  await svc?.close();
});

const me = (token: string) => svc.request<{ id: string; username: string }>('GET', `${AUTH}/me`, { token });
const refresh = (refresh_token: string) =>
  svc.request<TokenPair>('POST', `${AUTH}/refresh`, { body: { refresh_token } });
const logout = (token: string, body?: unknown) =>
  svc.request('POST', `${AUTH}/logout`, { token, ...(body === undefined ? {} : { body }) });

async function newSession(roles = ['receptionist']) {
  const input = newUser({ roles });
  const user = await createUser(svc, admin, input);
  return { user, input, pair: await loginOk(svc, input.username, input.password) };
}

describe('GET /auth/me', () => {
  it("returns the caller's user record and permissions, never a password hash", async () => {
    const { user, pair } = await newSession(['auditor']);
    const res = await me(pair.access_token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...user,
      lastLoginAt: ANY_STRING,
      permissions: ['analytics:read', 'audit:read'],
    });
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|hash/i);
  });

  it('answers 401 without a token, with a garbage token, and with a token of an untrusted key', async () => {
    expect(expectProblem(await svc.request('GET', `${AUTH}/me`), 401).code).toBe('unauthenticated');
    expectProblem(await me('garbage'), 401);
    expectProblem(await me(await svc.keys.mint({ roles: ['admin'] })), 401);
  });

  it('answers 404 for a service identity, which has no user record', async () => {
    const res = await svc.request<{ access_token: string }>('POST', `${AUTH}/token`, {
      body: {
        grant_type: 'client_credentials',
        client_id: 'gateway',
        client_secret: 'gateway-secret-0123456789abcdef',
      },
    });
    expectProblem(await me(res.body.access_token), 404);
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: a new pair, a new access token id, and the old refresh token is used up', async () => {
    const { user, pair } = await newSession();
    const res = await refresh(pair.refresh_token);
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.refresh_token).not.toBe(pair.refresh_token);
    expect(decodeJwt(res.body.access_token).jti).not.toBe(decodeJwt(pair.access_token).jti);
    expect(decodeJwt(res.body.access_token).sub).toBe(user.id);
    expect((await me(res.body.access_token)).status).toBe(200);
    // the next rotation works from the new token
    expect((await refresh(res.body.refresh_token)).status).toBe(200);
  });

  it('carries role changes into the next access token', async () => {
    const { user, pair } = await newSession(['receptionist']);
    const patch = await svc.request('PATCH', `${AUTH}/users/${user.id}`, {
      token: admin,
      body: { roles: ['receptionist', 'billing'] },
    });
    expect(patch.status).toBe(200);
    const res = await refresh(pair.refresh_token);
    expect(decodeJwt(res.body.access_token).roles).toEqual(['receptionist', 'billing']);
  });

  it('reuse of a used refresh token revokes the whole family: the new pair stops working too', async () => {
    const { user, pair } = await newSession();
    const second = (await refresh(pair.refresh_token)).body;
    const reuse = await refresh(pair.refresh_token);
    expect(expectProblem(reuse, 401).code).toBe('invalid_refresh_token');
    // the pair the legitimate rotation gave is dead as well
    expectProblem(await refresh(second.refresh_token), 401);
    expectProblem(await me(second.access_token), 401);
    expectProblem(await me(pair.access_token), 401);
    const revoked = (await outbox(svc, 'auth.session-revoked.v1')).filter((r) => r.subject === user.id);
    expect(revoked.map((r) => r.envelope.data.reason)).toEqual(['refresh_token_reuse']);
  });

  it('answers 401 for an unknown refresh token and 400 for a malformed request', async () => {
    expect(expectProblem(await refresh('x'.repeat(43)), 401).code).toBe('invalid_refresh_token');
    expect(
      expectValidationErrors(await svc.request('POST', `${AUTH}/refresh`, { body: {} })).map((e) => e.path),
    ).toEqual(['/body/refresh_token']);
    expectValidationErrors(await svc.request('POST', `${AUTH}/refresh`, { body: { refresh_token: '' } }));
  });

  it('stores refresh tokens only as hashes', async () => {
    const { pair } = await newSession();
    const { rows } = await svc.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM refresh_tokens WHERE token_hash = $1`,
      [pair.refresh_token],
    );
    expect(rows[0]?.n).toBe(0);
    const dump = await svc.db.query('SELECT * FROM refresh_tokens');
    expect(JSON.stringify(dump.rows)).not.toContain(pair.refresh_token);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the access token: the auth service and another kit-guarded service refuse it after', async () => {
    const { pair } = await newSession(['receptionist']);
    expect((await patient.request('GET', '/api/v1/patients', { token: pair.access_token })).status).toBe(200);
    const res = await logout(pair.access_token);
    expect(res.status).toBe(204);
    const after = await me(pair.access_token);
    expect(expectProblem(after, 401).detail).toBe('token revoked');
    await eventually(async () => {
      const p = await patient.request('GET', '/api/v1/patients', { token: pair.access_token });
      expect(expectProblem(p, 401).detail).toBe('token revoked');
    });
  });

  it('revokes the session: its refresh token no longer works', async () => {
    const { user, pair } = await newSession();
    expect((await logout(pair.access_token)).status).toBe(204);
    expectProblem(await refresh(pair.refresh_token), 401);
    const events = (await outbox(svc, 'auth.session-revoked.v1')).filter((r) => r.subject === user.id);
    expect(events.map((e) => e.envelope.data)).toEqual([
      {
        userId: user.id,
        sessionId: ANY_STRING,
        reason: 'logout',
        actor: user.id,
        at: ANY_STRING,
      },
    ]);
  });

  it('also ends the session of the refresh token sent, when it is the caller’s', async () => {
    const { input } = await newSession();
    const a = await loginOk(svc, input.username, input.password);
    const b = await loginOk(svc, input.username, input.password);
    expect((await logout(a.access_token, { refresh_token: b.refresh_token })).status).toBe(204);
    expectProblem(await refresh(b.refresh_token), 401);
    expectProblem(await me(b.access_token), 401);
  });

  it("does not touch another user's session when given its refresh token", async () => {
    const mine = await newSession();
    const theirs = await newSession();
    expect((await logout(mine.pair.access_token, { refresh_token: theirs.pair.refresh_token })).status).toBe(
      204,
    );
    expect((await refresh(theirs.pair.refresh_token)).status).toBe(200);
  });

  it('answers 401 without a valid token, before reading the body', async () => {
    expectProblem(await svc.request('POST', `${AUTH}/logout`), 401);
    expectProblem(await svc.request('POST', `${AUTH}/logout`, { body: { nonsense: true } }), 401);
    const { pair } = await newSession();
    await logout(pair.access_token);
    expectProblem(await logout(pair.access_token), 401);
  });

  it('answers 400 for a body with unknown fields', async () => {
    const { pair } = await newSession();
    expectValidationErrors(await logout(pair.access_token, { refresh: 'x' }));
  });
});
