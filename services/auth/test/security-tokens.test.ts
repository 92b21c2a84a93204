import { randomUUID } from 'node:crypto';
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@hms/platform';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { readAuthConfig } from '../src/config.js';
import { introspectionKey } from '../src/introspection.js';
import {
  useAuth,
  ADMIN,
  AUTH,
  adminToken,
  createUser,
  eventually,
  loginOk,
  newUser,
  privateKeyOf,
  type AuthUnderTest,
} from './helpers.js';

/**
 * Issue #17, finding 5: introspection must not answer a cached `active: true` for a token whose
 * signing key was withdrawn, and no token may claim a lifetime over TOKEN_MAX_LIFETIME_SEC (or an
 * issue time in the future), whatever its signature.
 */

let svc: AuthUnderTest;

useAuth({ KEYS_RELOAD_INTERVAL_MS: '200' }, async (s) => {
  svc = s;
});

interface Introspection {
  active: boolean;
  [claim: string]: unknown;
}

const introspect = async (token: string) =>
  (
    await svc.request<Introspection>('POST', `${AUTH}/introspect`, {
      token: await adminToken(svc),
      body: { token },
    })
  ).body;
const publishedKids = async () =>
  (await svc.request<{ keys: JWK[] }>('GET', '/.well-known/jwks.json')).body.keys.map((k) => k.kid);

/** A token signed with the service's current key, claiming what the caller says. */
async function forge(sub: string, iat: number, exp: number): Promise<string> {
  const kid = decodeProtectedHeader(await adminToken(svc)).kid ?? '';
  return new SignJWT({ roles: ['admin'], scope: 'users:manage' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setSubject(sub)
    .setIssuer('hms-auth')
    .setAudience('hms')
    .setIssuedAt(iat)
    .setJti(randomUUID())
    .setExpirationTime(exp)
    .sign(await privateKeyOf(svc, kid));
}

describe('token lifetime', () => {
  it('refuses a token signed with the live key that claims a 365-day lifetime: introspection inactive, /auth/me 401', async () => {
    const sub = String(decodeJwt(await adminToken(svc)).sub);
    const now = Math.floor(Date.now() / 1000);
    // the same forgery with an ordinary lifetime is accepted: the key and claims are right
    const ordinary = await forge(sub, now, now + 600);
    expect((await introspect(ordinary)).active).toBe(true);
    expect((await svc.request('GET', `${AUTH}/me`, { token: ordinary })).status).toBe(200);

    const forged = await forge(sub, now, now + 365 * 86_400);
    expect(await introspect(forged)).toEqual({ active: false });
    expect((await svc.request('GET', `${AUTH}/me`, { token: forged })).status).toBe(401);
    // an hour and one second is already too long (TOKEN_MAX_LIFETIME_SEC defaults to 3600)
    expect(await introspect(await forge(sub, now, now + 3601))).toEqual({ active: false });
  });

  it('refuses a token issued in the future', async () => {
    const sub = String(decodeJwt(await adminToken(svc)).sub);
    const now = Math.floor(Date.now() / 1000);
    const future = await forge(sub, now + 1800, now + 2400);
    expect(await introspect(future)).toEqual({ active: false });
    expect((await svc.request('GET', `${AUTH}/me`, { token: future })).status).toBe(401);
  });

  it('refuses at build an access or service token lifetime above TOKEN_MAX_LIFETIME_SEC, naming the key', () => {
    const base = { AUTH_KEYS_DIR: svc.keysDir };
    const refusal = (env: Record<string, string>) => {
      try {
        readAuthConfig({ ...base, ...env });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems.join('\n');
      }
      throw new Error('the configuration was accepted');
    };
    expect(refusal({ ACCESS_TOKEN_TTL_SEC: '7200' })).toMatch(
      /^ACCESS_TOKEN_TTL_SEC: .*TOKEN_MAX_LIFETIME_SEC/m,
    );
    expect(refusal({ TOKEN_MAX_LIFETIME_SEC: '600', SERVICE_TOKEN_TTL_SEC: '900' })).toMatch(
      /^SERVICE_TOKEN_TTL_SEC: .*TOKEN_MAX_LIFETIME_SEC/m,
    );
    // within the maximum: accepted
    expect(readAuthConfig({ ...base, ACCESS_TOKEN_TTL_SEC: '3600' }).TOKEN_MAX_LIFETIME_SEC).toBe(3600);
  });
});

describe('introspection after a key is withdrawn', () => {
  it('answers {active:false} for a token introspected while its key was live, and drops the cached answer', async () => {
    const admin = await adminToken(svc);
    const input = newUser();
    await createUser(svc, admin, input);
    const pair = await loginOk(svc, input.username, input.password);
    expect((await introspect(pair.access_token)).active).toBe(true);
    expect(await svc.store.get(introspectionKey(pair.access_token))).toBeDefined();

    // an operator withdraws the key (say it leaked): a new key file in, the old one out
    const oldKid = decodeProtectedHeader(pair.access_token).kid ?? '';
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const newKid = `replacement-${Date.now()}`;
    writeFileSync(
      join(svc.keysDir, `${newKid}.jwk.json`),
      JSON.stringify({
        ...(await exportJWK(privateKey)),
        kid: newKid,
        alg: 'ES256',
        created_at: new Date(Date.now() - 1000).toISOString(),
      }),
      { mode: 0o600 },
    );
    unlinkSync(join(svc.keysDir, `${oldKid}.jwk.json`));
    await eventually(async () => {
      expect(await publishedKids()).toEqual([newKid]);
    }, 10_000);
    expect(readdirSync(svc.keysDir)).not.toContain(`${oldKid}.jwk.json`);
    // the guards read the new JWKS file (the kit looks at it at most once a second)
    await eventually(async () => {
      expect((await svc.request('GET', `${AUTH}/me`, { token: await adminToken(svc) })).status).toBe(200);
    }, 10_000);

    expect(await introspect(pair.access_token)).toEqual({ active: false });
    expect(await svc.store.get(introspectionKey(pair.access_token))).toBeUndefined();
    // the guards refuse it too, and a token of the new key is active
    expect((await svc.request('GET', `${AUTH}/me`, { token: pair.access_token })).status).toBe(401);
    const fresh = await loginOk(svc, ADMIN.username, ADMIN.password);
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid);
    expect((await introspect(fresh.access_token)).active).toBe(true);
  });
});
