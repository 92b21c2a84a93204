import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, decodeProtectedHeader, type JWK } from 'jose';
import { expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  ADMIN,
  AUTH,
  adminToken,
  createUser,
  eventually,
  loginOk,
  newUser,
  sleep,
  startAuth,
  type AuthUnderTest,
  START_TIMEOUT_MS,
} from './helpers.js';

let svc: AuthUnderTest;
let admin: string;

useAuth({ KEY_ACTIVATION_DELAY_SEC: '1', KEYS_RELOAD_INTERVAL_MS: '200' }, async (s) => {
  svc = s;
  admin = await adminToken(svc);
});

const jwks = async () => (await svc.request<{ keys: JWK[] }>('GET', '/.well-known/jwks.json')).body;
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const keyFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jwk.json'));

async function privateKeyFile(kid: string, createdAt: Date): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return JSON.stringify({
    ...(await exportJWK(privateKey)),
    kid,
    alg: 'ES256',
    created_at: createdAt.toISOString(),
  });
}

describe('GET /.well-known/jwks.json', () => {
  it('is public and publishes the signing key, public parts only', async () => {
    const res = await svc.request<{ keys: JWK[] }>('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const token = await adminToken(svc);
    expect(res.body.keys.map((k) => k.kid)).toContain(kidOf(token));
    for (const k of res.body.keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
  });

  it('is also written to JWKS_FILE, the file the guards read', async () => {
    expect(JSON.parse(readFileSync(svc.jwksFile, 'utf8'))).toEqual(await jwks());
  });
});

describe('the key directory', () => {
  it('got one generated key on first start: `<kid>.jwk.json`, mode 0600, with created_at, in a 0700 directory', () => {
    const files = keyFiles(svc.keysDir);
    expect(files.length).toBeGreaterThanOrEqual(1);
    const file = join(svc.keysDir, files[0] ?? '');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(svc.keysDir).mode & 0o777).toBe(0o700);
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK & { created_at: string };
    expect(`${jwk.kid}.jwk.json`).toBe(files[0]);
    expect(Number.isNaN(Date.parse(jwk.created_at))).toBe(false);
    expect(jwk.d).toBeDefined();
  });
});

describe('rotation', () => {
  it('POST /auth/keys/rotate publishes a new key at once and signs with it after the activation delay', async () => {
    const before = await loginOk(svc, ADMIN.username, ADMIN.password);
    const oldKid = kidOf(before.access_token);
    const res = await svc.request<{ kid: string; createdAt: string; activatesAt: string }>(
      'POST',
      `${AUTH}/keys/rotate`,
      { token: admin },
    );
    expect(res.status).toBe(201);
    const { kid } = res.body;
    expect(kid).not.toBe(oldKid);
    expect(Date.parse(res.body.activatesAt) - Date.parse(res.body.createdAt)).toBe(1000);
    expect(statSync(join(svc.keysDir, `${kid}.jwk.json`)).mode & 0o777).toBe(0o600);
    // both keys published at once
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, kid]));
    // still signing with the old key until every verifier can have fetched the new one
    const during = await loginOk(svc, ADMIN.username, ADMIN.password);
    expect(kidOf(during.access_token)).toBe(oldKid);
    await sleep(1100);
    const after = await loginOk(svc, ADMIN.username, ADMIN.password);
    expect(kidOf(after.access_token)).toBe(kid);
    // tokens of both keys are accepted
    for (const t of [before, during, after])
      expect((await svc.request('GET', `${AUTH}/me`, { token: t.access_token })).status).toBe(200);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, kid]));
  });

  it('picks up a key file dropped into the directory', async () => {
    const kid = `dropped-${Date.now()}`;
    const createdAt = Date.now();
    writeFileSync(join(svc.keysDir, `${kid}.jwk.json`), await privateKeyFile(kid, new Date(createdAt)), {
      mode: 0o600,
    });
    await eventually(async () => {
      expect((await jwks()).keys.map((k) => k.kid)).toContain(kid);
    });
    await sleep(createdAt + 1100 - Date.now()); // its activation delay
    const pair = await loginOk(svc, ADMIN.username, ADMIN.password);
    expect(kidOf(pair.access_token)).toBe(kid);
    expect((await svc.request('GET', `${AUTH}/me`, { token: pair.access_token })).status).toBe(200);
  });

  it('needs users:manage: 401 without a token, 403 for a physician', async () => {
    expectProblem(await svc.request('POST', `${AUTH}/keys/rotate`), 401);
    const input = newUser({ roles: ['physician'] });
    await createUser(svc, admin, input);
    const pair = await loginOk(svc, input.username, input.password);
    expectProblem(await svc.request('POST', `${AUTH}/keys/rotate`, { token: pair.access_token }), 403);
  });
});

describe('retirement', () => {
  it(
    'stops publishing (and deletes) a key whose tokens have all expired; ignores unreadable files',
    async () => {
      const dir = join(svc.dir, 'preset-keys');
      mkdirSync(dir, { mode: 0o700 });
      const day = 86_400_000;
      writeFileSync(join(dir, 'old.jwk.json'), await privateKeyFile('old', new Date(Date.now() - 2 * day)), {
        mode: 0o600,
      });
      writeFileSync(
        join(dir, 'current.jwk.json'),
        await privateKeyFile('current', new Date(Date.now() - day)),
        {
          mode: 0o600,
        },
      );
      writeFileSync(join(dir, 'broken.jwk.json'), '{ not json', { mode: 0o600 });
      const other = await startAuth({ AUTH_KEYS_DIR: dir });
      try {
        const published = (await other.request<{ keys: JWK[] }>('GET', '/.well-known/jwks.json')).body.keys;
        expect(published.map((k) => k.kid)).toEqual(['current']);
        expect(existsSync(join(dir, 'old.jwk.json'))).toBe(false);
        const pair = await loginOk(other, ADMIN.username, ADMIN.password);
        expect(kidOf(pair.access_token)).toBe('current');
      } finally {
        await other.close();
      }
    },
    START_TIMEOUT_MS,
  );
});

describe('OpenAPI', () => {
  it('documents every auth route, with the permission of the guarded ones', async () => {
    const res = await svc.request<{ paths: Record<string, Record<string, { 'x-permission'?: string }>> }>(
      'GET',
      '/openapi.json',
    );
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    for (const p of [
      'login',
      'refresh',
      'logout',
      'me',
      'introspect',
      'token',
      'users',
      'users/{id}',
      'keys/rotate',
    ])
      expect(Object.keys(paths)).toContain(`${AUTH}/${p}`);
    expect(Object.keys(paths)).toContain('/.well-known/jwks.json');
    expect(paths[`${AUTH}/users`]?.post?.['x-permission']).toBe('users:manage');
    expect(paths[`${AUTH}/introspect`]?.post?.['x-permission']).toBe('tokens:introspect');
  });
});
