import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createHttpServer,
  createLogger,
  createMetrics,
  createTokenVerifier,
  tokenStanding,
  tokenTimeProblem,
  type Principal,
  type TokenVerifier,
  type App,
} from '@hms/platform';
import { createTestKeys, mintToken, TEST_AUDIENCE, TEST_ISSUER, type TestKeys } from '@hms/testkit';
import { call, listen, type Answer } from './helpers.js';

const revoked = new Set<string>();

function buildApp(keys: TestKeys): App {
  const app = createHttpServer({
    service: 'auth-test',
    logger: createLogger('auth-test', 'silent'),
    verifier: createTokenVerifier({
      jwksUrl: keys.jwksUrl,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      isRevoked: (jti) => revoked.has(jti),
    }),
    metrics: createMetrics('auth-test'),
  });
  app.get('/api/v1/records', { config: { permission: 'patients:read' } }, async (request) => ({
    sub: request.principal?.sub,
    roles: request.principal?.roles,
  }));
  app.get('/api/v1/ledger', { config: { permission: 'billing:write' } }, async () => ({ ok: true }));
  return app;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT assembled by hand, for the shapes no honest library would sign. */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

function goodClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: randomUUID(),
    roles: ['admin'],
    scope: 'patients:read',
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
  };
}

describe('auth guard over HTTP', () => {
  let keys: TestKeys;
  let app: App;
  let url: string;

  beforeAll(async () => {
    keys = await createTestKeys();
    app = buildApp(keys);
    url = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  const get = (authorization?: string, path = '/api/v1/records') =>
    call(`${url}${path}`, { headers: authorization === undefined ? {} : { authorization } });
  const bearer = (token: string) => get(`Bearer ${token}`);

  const expectRefused = (res: Answer, detail?: RegExp) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    if (detail) expect(res.body.detail).toMatch(detail);
  };

  test('accepts a good token', async () => {
    const sub = randomUUID();
    const res = await bearer(await keys.mint({ sub, roles: ['nurse'] }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub, roles: ['nurse'] });
  });

  test('refuses a request without a token', async () => {
    const res = await get();
    expectRefused(res, /missing bearer token/);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('takes the scheme in any case (RFC 9110: `bearer`, `BEARER`)', async () => {
    const token = await keys.mint({ roles: ['admin'] });
    for (const scheme of ['bearer', 'BEARER', 'BeArEr'])
      expect((await get(`${scheme} ${token}`)).status, scheme).toBe(200);
  });

  test('refuses a malformed authorization header', async () => {
    const token = await keys.mint({ roles: ['admin'] });
    for (const header of [
      `Basic ${token}`,
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${token} extra`,
      `Token ${token}`,
    ]) {
      const res = await get(header);
      expectRefused(res);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  test('refuses alg none', async () => {
    expectRefused(await bearer(handMade({ alg: 'none', typ: 'JWT', kid: keys.kid }, goodClaims())));
    expectRefused(await bearer(handMade({ alg: 'none', typ: 'JWT' }, goodClaims())));
  });

  test('refuses HS256 signed with the public key as the secret', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(keys.publicJwk));
    const token = await new SignJWT(goodClaims())
      .setProtectedHeader({ alg: 'HS256', kid: keys.kid })
      .sign(secret);
    expectRefused(await bearer(token), /unsupported token algorithm/);
  });

  test('refuses an expired token', async () => {
    expectRefused(await bearer(await keys.mint({ roles: ['admin'], expiresInSec: -60 })), /expired/);
  });

  test('refuses a token that is not valid yet (nbf in the future)', async () => {
    expectRefused(await bearer(await keys.mint({ roles: ['admin'], notBeforeSec: 120 })), /nbf/);
  });

  test('refuses a token from another issuer', async () => {
    expectRefused(await bearer(await keys.mint({ roles: ['admin'], issuer: 'evil-auth' })), /iss/);
  });

  test('refuses a token for another audience', async () => {
    expectRefused(await bearer(await keys.mint({ roles: ['admin'], audience: 'other-platform' })), /aud/);
  });

  test('refuses a tampered payload that keeps the original signature', async () => {
    const token = await keys.mint({ roles: ['billing'] });
    const [header = '', payload = '', signature = ''] = token.split('.');
    expect((await bearer(token)).status).toBe(200);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${b64url({ ...claims, roles: ['admin'], scope: 'billing:write' })}.${signature}`;
    expectRefused(await get(`Bearer ${forged}`, '/api/v1/ledger'), /signature/);
    expectRefused(
      await bearer(`${header}.${b64url({ ...claims, exp: (claims.exp as number) + 3600 })}.${signature}`),
    );
  });

  test('refuses a token signed with an unknown key id', async () => {
    expectRefused(
      await bearer(await keys.mint({ roles: ['admin'], kid: 'no-such-key' })),
      /unknown signing key/,
    );
  });

  test('refuses a token without a key id', async () => {
    expectRefused(await bearer(await keys.mint({ roles: ['admin'], kid: null })), /key id/);
  });

  test('refuses a token signed by another key that claims the same key id', async () => {
    const other = await generateKeyPair('ES256');
    expectRefused(await bearer(await mintToken(other.privateKey, keys.kid, { roles: ['admin'] })));
  });

  test('refuses a revoked token (jti on the deny-list)', async () => {
    const jti = randomUUID();
    const token = await keys.mint({ roles: ['nurse'], jti });
    expect((await bearer(token)).status).toBe(200);
    revoked.add(jti);
    expectRefused(await bearer(token), /revoked/);
  });

  test('answers 403 when the token lacks the route permission', async () => {
    const res = await bearer(await keys.mint({ roles: ['auditor'] }));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 403, code: 'forbidden' });
    expect(res.body.detail).toMatch(/patients:read/);
  });

  test('derives permissions from roles when the scope is empty', async () => {
    const res = await bearer(await keys.mint({ roles: ['physician'], scope: [] }));
    expect(res.status).toBe(200);
    const none = await bearer(await keys.mint({ roles: ['not-a-role'], scope: [] }));
    expect(none.status).toBe(403);
  });

  test('grants a service identity what its scope names', async () => {
    const svc = await keys.mint({ sub: 'svc:reader', roles: [], scope: ['patients:read'] });
    expect((await bearer(svc)).status).toBe(200);
  });

  test("a person's permissions are their roles' as the role table says now, whatever the token's scope claims", async () => {
    // the scope of a token issued before a permission left the role (ADR 0002): not honoured
    const stale = await keys.mint({ roles: ['auditor'], scope: ['patients:read', 'audit:read'] });
    expect((await bearer(stale)).status).toBe(403);
    const noRole = await keys.mint({ roles: [], scope: ['patients:read'] });
    expect((await bearer(noRole)).status).toBe(403);
  });

  test('refuses a token whose lifetime exceeds the maximum, or issued in the future, though well signed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = await mintToken(keys.privateKey, keys.kid, {
      roles: ['physician'],
      expiresInSec: 365 * 86_400,
    });
    const res = await bearer(forged);
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe('token lifetime exceeds the maximum');
    const ahead = await new SignJWT({
      ...goodClaims(),
      roles: ['physician'],
      iat: now + 3000,
      exp: now + 3300,
    })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .sign(keys.privateKey);
    const future = await bearer(ahead);
    expect(future.status).toBe(401);
    expect(future.body.detail).toBe('token issued in the future');
    // a lifetime at the maximum (an hour) is accepted
    expect((await bearer(await keys.mint({ roles: ['physician'], expiresInSec: 3600 }))).status).toBe(200);
  });
});

describe('key rotation through the JWKS file', () => {
  test('picks up a rewritten JWKS file: a new key is accepted and a removed key refused', async () => {
    const keys = await createTestKeys();
    const app = buildApp(keys);
    const url = await listen(app);
    try {
      const get = async (token: string) =>
        (await call(`${url}/api/v1/records`, { headers: { authorization: `Bearer ${token}` } })).status;
      const oldToken = await keys.mint({ roles: ['nurse'] });
      expect(await get(oldToken)).toBe(200);

      const next = await generateKeyPair('ES256', { extractable: true });
      const nextKid = `next-${randomUUID().slice(0, 8)}`;
      const nextJwk = { ...(await exportJWK(next.publicKey)), kid: nextKid, alg: 'ES256', use: 'sig' };
      const newToken = await mintToken(next.privateKey, nextKid, { roles: ['nurse'] });
      const file = fileURLToPath(keys.jwksUrl);

      // both keys published: tokens of either are accepted (rotation without downtime)
      writeFileSync(file, JSON.stringify({ keys: [keys.publicJwk, nextJwk] }));
      await sleep(1100); // the verifier looks at the file at most once per second
      expect(await get(newToken)).toBe(200);
      expect(await get(oldToken)).toBe(200);

      // the old key retired
      writeFileSync(file, JSON.stringify({ keys: [nextJwk] }));
      await sleep(1100);
      expect(await get(newToken)).toBe(200);
      expect(await get(oldToken)).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('a JWKS served over HTTP (the auth service in cluster mode)', () => {
  test('verifies against the fetched keys, once per token, and refuses a key id it does not publish', async () => {
    const keys = await createTestKeys();
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches += 1;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [keys.publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const verifier = createTokenVerifier({
        jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
      });
      const token = await keys.mint({ roles: ['nurse'] });
      for (let i = 0; i < 3; i++) expect((await verifier.verify(token)).roles).toEqual(['nurse']);
      const other = await keys.mint({ roles: ['physician'] });
      expect((await verifier.verify(other)).roles).toEqual(['physician']);
      expect(fetches).toBe(1); // jose keeps the set (its max age, 60 s) and the cache keeps the tokens

      const stranger = await generateKeyPair('ES256');
      await expect(
        verifier.verify(await mintToken(stranger.privateKey, 'never-published', { roles: ['admin'] })),
      ).rejects.toMatchObject({ status: 401 });
    } finally {
      server.close();
    }
  });
});

describe('a signing key withdrawn from a JWKS served over HTTP', () => {
  test("refuses the key's tokens within the JWKS max age, cached or not, in the guard and the verifier", async () => {
    const keys = await createTestKeys();
    const spare = await createTestKeys();
    let published = [keys.publicJwk, spare.publicJwk];
    const server = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=1' })
        .end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const verifier = createTokenVerifier({
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwksMaxAgeMs: 1000,
    });
    const app = createHttpServer({
      service: 'jwks-test',
      logger: createLogger('jwks-test', 'silent'),
      verifier,
      metrics: createMetrics('jwks-test'),
    });
    app.get('/api/v1/records', { config: { permission: 'patients:read' } }, async () => ({ ok: true }));
    const url = await listen(app);
    try {
      const get = async (token: string) =>
        (await call(`${url}/api/v1/records`, { headers: { authorization: `Bearer ${token}` } })).status;
      const token = await keys.mint({ roles: ['nurse'] });
      const other = await spare.mint({ roles: ['nurse'] });
      expect(await get(token)).toBe(200);
      expect(await get(token)).toBe(200); // from the verified-token cache
      expect(atOnce(verifier, token)?.principal?.sub).toBeDefined();

      published = [spare.publicJwk]; // the key is withdrawn (a compromise)
      await sleep(1200);
      expect(atOnce(verifier, token)).toBeUndefined(); // the set it knows is stale: it is read again first
      expect(await get(token)).toBe(401);
      await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401 });
      // a token of a new verification is refused as well, and the key still published still works
      expect(await get(await keys.mint({ roles: ['nurse'] }))).toBe(401);
      expect(await get(other)).toBe(200);
    } finally {
      await app.close();
      server.close();
    }
  });
});

/** What `authenticate` called back with before returning (undefined: it had not called back yet). */
function atOnce(verifier: TokenVerifier, token: string): { principal?: Principal; err?: Error } | undefined {
  let answer: { principal?: Principal; err?: Error } | undefined;
  verifier.authenticate(
    token,
    (err, principal) => (answer = err ? { err } : { principal: principal as Principal }),
  );
  return answer;
}

describe('authenticate: at once when what decides it is at hand', () => {
  test('answers at once only for a token verified before, refuses it once revoked, and checks the rest first', async () => {
    const keys = await createTestKeys();
    const denied = new Set<string>();
    const verifier = createTokenVerifier({
      jwksUrl: keys.jwksUrl,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      isRevoked: (jti) => denied.has(jti),
    });
    const token = await keys.mint({ roles: ['nurse'] });
    // never verified: its signature is checked first, so the answer comes later
    expect(atOnce(verifier, token)).toBeUndefined();
    const principal = await verifier.verify(token);
    expect(atOnce(verifier, token)).toEqual({ principal });

    // revoked: refused at once, with the error verify gives
    denied.add(principal.jti);
    expect(atOnce(verifier, token)?.err).toMatchObject({ status: 401, detail: 'token revoked' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, detail: 'token revoked' });

    // a tampered copy of a verified token is a different text: checked in full, and refused
    const [h, p, sig = ''] = token.split('.');
    // one character of the signature changed (always a change: a fixed suffix could be the one it had)
    const tampered = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    expect(tampered).not.toBe(token);
    expect(atOnce(verifier, tampered)).toBeUndefined();
    await expect(verifier.verify(tampered)).rejects.toMatchObject({ status: 401 });
  });

  test('expired tokens are checked again, and refused', async () => {
    const keys = await createTestKeys();
    const verifier = createTokenVerifier({
      jwksUrl: keys.jwksUrl,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      clockToleranceSec: 0,
    });
    const token = await keys.mint({ roles: ['nurse'], expiresInSec: 1 });
    await verifier.verify(token);
    await sleep(1100);
    expect(atOnce(verifier, token)).toBeUndefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401 });
  });
});

describe('tokenStanding: the one rule for a checked token', () => {
  const principal = {
    sub: 'u1',
    roles: ['nurse'],
    permissions: new Set<string>(),
    jti: 'j1',
    exp: 2_000,
    isService: false,
  };
  const now = (ms: number, kids: string[], revoked: string[] = []) => ({
    ms,
    kids: new Set(kids),
    revoked: (jti: string) => revoked.includes(jti),
  });
  test('stands before exp while its key is published; rechecked after exp or once the key is withdrawn', () => {
    expect(tokenStanding({ principal, kid: 'k1' }, now(1_999_999, ['k1', 'k2']))).toBe(principal);
    expect(tokenStanding({ principal, kid: 'k1' }, now(2_000_000, ['k1']))).toBe('recheck');
    expect(tokenStanding({ principal, kid: 'k1' }, now(1_000, ['k2']))).toBe('recheck');
  });
  test('refused when its id is on the deny-list', () => {
    expect(() => tokenStanding({ principal, kid: 'k1' }, now(1_000, ['k1'], ['j1']))).toThrow(
      expect.objectContaining({ status: 401, detail: 'token revoked' }),
    );
  });
});

describe("tokenTimeProblem: the one rule for a token's times", () => {
  const now = 1_800_000_000;
  const ok = (claims: { iat?: unknown; exp?: unknown }, nowSec: number, max: number) =>
    tokenTimeProblem(claims, nowSec, max) === undefined;
  test('accepts a lifetime up to the maximum, issued up to 5 s ahead of this clock', () => {
    expect(ok({ iat: now, exp: now + 3600 }, now, 3600)).toBe(true);
    expect(ok({ iat: now + 5, exp: now + 905 }, now, 3600)).toBe(true);
  });

  test('refuses a longer, empty or negative lifetime, a future iat, and missing claims', () => {
    expect(ok({ iat: now, exp: now + 3601 }, now, 3600)).toBe(false);
    expect(ok({ iat: now, exp: now + 365 * 86_400 }, now, 3600)).toBe(false);
    expect(ok({ iat: now, exp: now }, now, 3600)).toBe(false);
    expect(ok({ iat: now, exp: now - 1 }, now, 3600)).toBe(false);
    expect(ok({ iat: now + 6, exp: now + 606 }, now, 3600)).toBe(false);
    expect(ok({ exp: now + 60 }, now, 3600)).toBe(false);
    expect(ok({ iat: 'soon', exp: now + 60 }, now, 3600)).toBe(false);
  });
});
