import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_PERMISSIONS } from '@hms/contracts';
import { decodeJwt } from 'jose';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { introspectionKey } from '../src/introspection.js';
import { sha256 } from '../src/tokens.js';
import {
  useAuth,
  AUTH,
  CLIENT_SECRETS,
  adminToken,
  createUser,
  loginOk,
  newUser,
  type AuthUnderTest,
  type TokenPair,
} from './helpers.js';

let svc: AuthUnderTest;
let admin: string;

useAuth({}, async (s) => {
  svc = s;
  admin = await adminToken(svc);
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

interface Introspection {
  active: boolean;
  [claim: string]: unknown;
}

const introspect = (token: string, as = admin) =>
  svc.request<Introspection>('POST', `${AUTH}/introspect`, {
    token: as,
    rawBody: form({ token }),
    headers: FORM,
  });

async function userSession(roles = ['nurse']) {
  const input = newUser({ roles });
  const user = await createUser(svc, admin, input);
  return { user, pair: await loginOk(svc, input.username, input.password) };
}

const grant = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  svc.request<{ access_token: string; token_type: string; expires_in: number; scope: string }>(
    'POST',
    `${AUTH}/token`,
    { rawBody: form(params), headers: { ...FORM, ...headers } },
  );
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

describe('POST /auth/introspect (RFC 7662)', () => {
  it('answers active with the claims, username and roles of a live access token (form-encoded)', async () => {
    const { user, pair } = await userSession(['nurse']);
    const res = await introspect(pair.access_token);
    expect(res.status).toBe(200);
    const claims = decodeJwt(pair.access_token);
    expect(res.body).toEqual({
      active: true,
      sub: user.id,
      scope: claims.scope,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      iss: 'hms-auth',
      aud: 'hms',
      username: user.username,
      roles: ['nurse'],
      token_type: 'Bearer',
    });
  });

  it('accepts a JSON body too', async () => {
    const { pair } = await userSession();
    const res = await svc.request<Introspection>('POST', `${AUTH}/introspect`, {
      token: admin,
      body: { token: pair.access_token, token_type_hint: 'access_token' },
    });
    expect(res.body.active).toBe(true);
  });

  it.each([
    ['garbage', () => Promise.resolve('not-a-token')],
    ['a refresh token', async () => (await userSession()).pair.refresh_token],
    ['a token signed by another key', () => svc.keys.mint({ roles: ['admin'] })],
  ])('answers exactly {active:false} for %s', async (_what, token) => {
    const res = await introspect(await token());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });

  it('caches an active answer under the SHA-256 of the token until the token expires', async () => {
    const { pair } = await userSession();
    const key = introspectionKey(pair.access_token);
    expect(key).toBe(`auth:introspect:${sha256(pair.access_token)}`);
    expect(await svc.store.get(key)).toBeUndefined();
    const first = await introspect(pair.access_token);
    const cached = await svc.store.get(key);
    expect(cached && JSON.parse(cached)).toEqual(first.body);
    const ttl = (await svc.store.ttl(key)) ?? 0;
    const exp = Number(decodeJwt(pair.access_token).exp);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(exp * 1000 - Date.now() + 1000);
    // the second answer comes from the cache: a marker planted there is answered back
    await svc.store.set(key, JSON.stringify({ ...first.body, username: 'from-the-cache' }), 60_000);
    expect((await introspect(pair.access_token)).body.username).toBe('from-the-cache');
  });

  it('answers active:false at once for a revoked token, even with a cached answer', async () => {
    const { pair } = await userSession();
    expect((await introspect(pair.access_token)).body.active).toBe(true);
    expect(await svc.store.get(introspectionKey(pair.access_token))).toBeDefined();
    // revoke the whole family by reusing its refresh token: the cache entry is left in place
    await svc.request('POST', `${AUTH}/refresh`, { body: { refresh_token: pair.refresh_token } });
    await svc.request('POST', `${AUTH}/refresh`, { body: { refresh_token: pair.refresh_token } });
    expect(await svc.store.get(introspectionKey(pair.access_token))).toBeDefined();
    expect((await introspect(pair.access_token)).body).toEqual({ active: false });
  });

  it('logout deletes the cached answer and the token answers inactive', async () => {
    const { pair } = await userSession();
    await introspect(pair.access_token);
    const res = await svc.request('POST', `${AUTH}/logout`, { token: pair.access_token });
    expect(res.status).toBe(204);
    expect(await svc.store.get(introspectionKey(pair.access_token))).toBeUndefined();
    expect((await introspect(pair.access_token)).body).toEqual({ active: false });
  });

  it('needs tokens:introspect: 401 without a token, 403 for a user without it', async () => {
    const { pair } = await userSession(['physician']);
    expectProblem(
      await svc.request('POST', `${AUTH}/introspect`, { rawBody: form({ token: 'x' }), headers: FORM }),
      401,
    );
    const forbidden = await introspect(pair.access_token, pair.access_token);
    expect(expectProblem(forbidden, 403).detail).toBe('requires the tokens:introspect permission');
  });

  it('answers 400 without a token parameter, or with a parameter sent twice', async () => {
    const errors = expectValidationErrors(
      await svc.request('POST', `${AUTH}/introspect`, {
        token: admin,
        rawBody: 'token_type_hint=x',
        headers: FORM,
      }),
    );
    expect(errors.map((e) => e.path)).toEqual(['/body/token']);
    expectValidationErrors(
      await svc.request('POST', `${AUTH}/introspect`, {
        token: admin,
        rawBody: 'token=a&token=b',
        headers: FORM,
      }),
    );
  });
});

describe('POST /auth/token (client credentials)', () => {
  it('gives a service a short-lived token with exactly its SERVICE_PERMISSIONS, no refresh token', async () => {
    const res = await grant({
      grant_type: 'client_credentials',
      client_id: 'billing',
      client_secret: CLIENT_SECRETS.billing,
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(res.body.expires_in).toBe(300);
    expect(res.body.scope.split(' ').sort()).toEqual([...SERVICE_PERMISSIONS.billing].sort());
    const claims = decodeJwt(res.body.access_token);
    expect(claims.sub).toBe('svc:billing');
    expect(claims.roles).toEqual([]);
    expect(String(claims.scope).split(' ').sort()).toEqual([...SERVICE_PERMISSIONS.billing].sort());
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
  });

  it('accepts HTTP Basic and a JSON body', async () => {
    const viaBasic = await grant(
      { grant_type: 'client_credentials' },
      basic('gateway', CLIENT_SECRETS.gateway),
    );
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.body.scope).toBe('tokens:introspect');
    const viaJson = await svc.request<TokenPair>('POST', `${AUTH}/token`, {
      body: { grant_type: 'client_credentials', client_id: 'gateway', client_secret: CLIENT_SECRETS.gateway },
    });
    expect(viaJson.status).toBe(200);
  });

  it('a service token with tokens:introspect may introspect', async () => {
    const svcToken = (
      await grant({ grant_type: 'client_credentials' }, basic('gateway', CLIENT_SECRETS.gateway))
    ).body.access_token;
    const { pair } = await userSession();
    const res = await introspect(pair.access_token, svcToken);
    expect(res.body.active).toBe(true);
    const self = await introspect(svcToken, svcToken);
    expect(self.body).toMatchObject({
      active: true,
      sub: 'svc:gateway',
      client_id: 'gateway',
      scope: 'tokens:introspect',
    });
    expect(self.body).not.toHaveProperty('username');
  });

  it.each([
    ['a wrong secret', { client_id: 'billing', client_secret: 'not-the-secret' }],
    ["another service's secret", { client_id: 'billing', client_secret: CLIENT_SECRETS.gateway }],
    ['an unknown client', { client_id: 'mallory', client_secret: 'anything' }],
    ['a service without a secret file', { client_id: 'pharmacy', client_secret: 'anything' }],
    ['no credentials', {}],
  ])('answers 401 invalid_client for %s', async (_what, creds) => {
    const res = await grant({ grant_type: 'client_credentials', ...creds });
    const problem = expectProblem(res, 401);
    expect(problem).toMatchObject({ code: 'invalid_client', error: 'invalid_client' });
    expect(JSON.stringify(problem)).not.toContain('secret-0123');
  });

  it('answers 401 with WWW-Authenticate: Basic for a wrong secret sent with HTTP Basic', async () => {
    const res = await grant({ grant_type: 'client_credentials' }, basic('billing', 'wrong'));
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="hms"/);
  });

  it('answers 400 unsupported_grant_type for another grant, 400 for both Basic and body credentials', async () => {
    const password = await grant({ grant_type: 'password', username: 'a', password: 'b' });
    expectProblem(password, 400);
    const other = await grant({ grant_type: 'authorization_code' });
    expect(expectProblem(other, 400)).toMatchObject({
      code: 'unsupported_grant_type',
      error: 'unsupported_grant_type',
    });
    const both = await grant(
      { grant_type: 'client_credentials', client_id: 'gateway', client_secret: CLIENT_SECRETS.gateway },
      basic('gateway', CLIENT_SECRETS.gateway),
    );
    expect(expectProblem(both, 400)).toMatchObject({ error: 'invalid_request' });
    expect(expectValidationErrors(await grant({})).map((e) => e.path)).toEqual(['/body/grant_type']);
  });

  it('reads the secret file at each grant, so a rotated secret applies at once', async () => {
    writeFileSync(join(svc.dir, 'clients', 'pharmacy.secret'), 'pharmacy-secret-new-0123456789', {
      mode: 0o600,
    });
    const res = await grant({
      grant_type: 'client_credentials',
      client_id: 'pharmacy',
      client_secret: 'pharmacy-secret-new-0123456789',
    });
    expect(res.status).toBe(200);
    expect(res.body.scope.split(' ').sort()).toEqual([...SERVICE_PERMISSIONS.pharmacy].sort());
  });
});
