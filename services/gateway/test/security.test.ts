import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createTestKeys } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '@hms/testkit/vitest';
import { PATIENTS, STARTUP_MS, newPatient, served, startStack, type Stack } from './helpers.js';

let s: Stack;

beforeAll(async () => {
  s = await startStack({}, { ownJwks: true });
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

const future = () => Math.floor(Date.now() / 1000) + 300;

/** Asserts the gateway refused the call itself: the Patient service never saw it. */
async function refusedAtGateway(status: number, call: () => ReturnType<Stack['gateway']['request']>) {
  const before = await served(s.patient, PATIENTS);
  const res = await call();
  const problem = expectProblem(res, status);
  expect(await served(s.patient, PATIENTS)).toBe(before);
  return { res, problem };
}

describe('401 at the gateway', () => {
  it('refuses a request without a token', async () => {
    const { res, problem } = await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS));
    expect(problem.code).toBe('unauthenticated');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a token that is not a JWT', async () => {
    const { res } = await refusedAtGateway(401, () =>
      s.gateway.request('GET', PATIENTS, { token: 'garbage' }),
    );
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('refuses a forged token: signed by a key the platform does not trust', async () => {
    const forger = await createTestKeys();
    const token = await forger.mint({ roles: ['admin'], kid: s.keys.kid });
    const { res } = await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS, { token }));
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('refuses an expired token', async () => {
    const token = await s.keys.mint({ roles: ['admin'], expiresInSec: -60 });
    const { problem } = await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS, { token }));
    expect(problem.detail).toBe('token expired');
  });

  it('refuses a token issued for another audience', async () => {
    const token = await s.keys.mint({ roles: ['admin'], audience: 'another-platform' });
    const { problem } = await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS, { token }));
    expect(problem.detail).toBe('token aud claim rejected');
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await s.keys.mint({ roles: ['admin'], notBeforeSec: 600 });
    await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS, { token }));
  });

  it('refuses a revoked token at once, although it was verified (and cached) before', async () => {
    const jti = randomUUID();
    const token = await s.keys.mint({ roles: ['receptionist'], jti });
    expect((await s.gateway.request('GET', PATIENTS, { token })).status).toBe(200);
    await s.gateway.denyList.revoke(jti, future());
    const { problem } = await refusedAtGateway(401, () => s.gateway.request('GET', PATIENTS, { token }));
    expect(problem.detail).toBe('token revoked');
  });

  it('learns of a revocation made elsewhere (the deny-list push) without a restart', async () => {
    const jti = randomUUID();
    const token = await s.keys.mint({ roles: ['receptionist'], jti });
    expect((await s.gateway.request('GET', PATIENTS, { token })).status).toBe(200);
    // the auth service revokes; every verifier hears it over the store's channel
    await s.auth.denyList.revoke(jti, future());
    await expect
      .poll(async () => (await s.gateway.request('GET', PATIENTS, { token })).status, { timeout: 5000 })
      .toBe(401);
  });
});

describe('403 at the gateway', () => {
  it('refuses a role without the route’s permission, naming the permission', async () => {
    const token = await s.keys.mint({ roles: ['auditor'] });
    const { problem } = await refusedAtGateway(403, () => s.gateway.request('GET', PATIENTS, { token }));
    expect(problem.detail).toBe('requires the patients:read permission');
  });

  it('refuses a write to a token that may only read', async () => {
    const token = await s.keys.mint({ sub: 'svc:reader', scope: ['patients:read'] });
    const before = await served(s.patient, PATIENTS, 'POST');
    const res = await s.gateway.request('POST', PATIENTS, { token, body: newPatient() });
    expect(expectProblem(res, 403).detail).toBe('requires the patients:write permission');
    expect(await served(s.patient, PATIENTS, 'POST')).toBe(before);
  });

  it('enforces the permission another service declares for its route', async () => {
    const nurse = await s.keys.mint({ roles: ['nurse'] });
    expectProblem(await s.gateway.request('GET', '/api/v1/auth/sessions', { token: nurse }), 403);
    const admin = await s.keys.mint({ roles: ['admin'] });
    expect((await s.gateway.request('GET', '/api/v1/auth/sessions', { token: admin })).status).toBe(200);
  });
});

describe('a route that needs a token but no permission (x-authenticated)', () => {
  it('refuses it without a token at the gateway, and lets any valid token through', async () => {
    const before = await served(s.auth, '/api/v1/auth/me');
    const res = await s.gateway.request('GET', '/api/v1/auth/me');
    expectProblem(res, 401);
    expect(await served(s.auth, '/api/v1/auth/me')).toBe(before);
    const token = await s.keys.mint({ roles: ['auditor'], sub: 'user-me' });
    const me = await s.gateway.request<{ sub: string }>('GET', '/api/v1/auth/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.sub).toBe('user-me');
  });
});

describe('direct calls to the Patient service, bypassing the gateway', () => {
  it('refuses a missing token', async () => {
    const res = await s.patient.request('GET', PATIENTS);
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a forged token', async () => {
    const forger = await createTestKeys();
    const token = await forger.mint({ roles: ['admin'], kid: s.keys.kid });
    expectProblem(await s.patient.request('GET', PATIENTS, { token }), 401);
  });

  it('refuses a revoked token', async () => {
    const jti = randomUUID();
    const token = await s.keys.mint({ roles: ['receptionist'], jti });
    expect((await s.patient.request('GET', PATIENTS, { token })).status).toBe(200);
    await s.auth.denyList.revoke(jti, future());
    await expect
      .poll(async () => (await s.patient.request('GET', PATIENTS, { token })).status, { timeout: 5000 })
      .toBe(401);
    expect(expectProblem(await s.patient.request('GET', PATIENTS, { token }), 401).detail).toBe(
      'token revoked',
    );
  });

  it('refuses an under-privileged token', async () => {
    const token = await s.keys.mint({ roles: ['billing'] });
    const res = await s.patient.request('POST', PATIENTS, { token, body: newPatient() });
    expect(expectProblem(res, 403).detail).toBe('requires the patients:write permission');
  });
});

// last: it changes the keys the gateway trusts
describe('the verified-token cache', () => {
  it('does not check a verified token’s signature again, but drops it with its signing key', async () => {
    const cached = await s.keys.mint({ roles: ['receptionist'] });
    expect((await s.gateway.request('GET', PATIENTS, { token: cached })).status).toBe(200);

    // the gateway's JWKS now holds another key under the same key id (the file is re-read when
    // it changes): a token it has not seen fails its signature check…
    const other = (await createTestKeys()).publicJwk;
    writeFileSync(s.gatewayJwks as string, JSON.stringify({ keys: [{ ...other, kid: s.keys.kid }] }));
    const fresh = async () => s.keys.mint({ roles: ['receptionist'] });
    await expect
      .poll(async () => (await s.gateway.request('GET', PATIENTS, { token: await fresh() })).status, {
        timeout: 5000,
      })
      .toBe(401);
    // …while the token verified before is accepted without its signature being checked again;
    // the Patient service, which still trusts the original key, verifies it and answers
    expect((await s.gateway.request('GET', PATIENTS, { token: cached })).status).toBe(200);

    // a key withdrawn from the JWKS (a compromise) takes its remembered tokens with it
    writeFileSync(s.gatewayJwks as string, JSON.stringify({ keys: [] }));
    await expect
      .poll(async () => (await s.gateway.request('GET', PATIENTS, { token: cached })).status, {
        timeout: 5000,
      })
      .toBe(401);
  });
});
