import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import {
  mintToken,
  outboxRows,
  startService,
  type OutboxRow,
  type Problem,
  type RunningService,
  type TestKeys,
} from '@hms/testkit';
import { postCreated, useStarted } from '@hms/testkit/vitest';
import type { KeyValueStore } from '@hms/platform';
import { decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose';
import { beforeAll, expect } from 'vitest';
import { authService } from '../src/service.js';
import type { User } from '../src/schemas.js';

export const AUTH = '/api/v1/auth';
/** Starting a service (a fresh database, migrations, a first admin) on a busy machine. */
export const START_TIMEOUT_MS = 120_000;
/** `expect.any(String)`, typed for object literals compared with toEqual. */
export const ANY_STRING = expect.any(String) as string;
export const USERS = `${AUTH}/users`;
export const ADMIN = { username: 'root-admin', password: 'correct horse battery staple' };
/** The client-credentials secrets the test services are given. */
export const CLIENT_SECRETS = {
  gateway: 'gateway-secret-0123456789abcdef',
  billing: 'billing-secret-0123456789abcdef',
};

export interface TokenPair {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

export interface AuthUnderTest extends RunningService {
  dir: string;
  keysDir: string;
  jwksFile: string;
  jwksUrl: string;
}

/**
 * Starts the auth service on real HTTP with its own key directory, a JWKS file its guard reads
 * (so tokens it issues are what its own routes trust), two service clients and a first admin.
 */
export async function startAuth(
  env: Record<string, string> = {},
  opts: { store?: KeyValueStore } = {},
): Promise<AuthUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'hms-auth-test-'));
  const keysDir = join(dir, 'keys');
  const clientsDir = join(dir, 'clients');
  mkdirSync(clientsDir);
  for (const [name, secret] of Object.entries(CLIENT_SECRETS))
    writeFileSync(join(clientsDir, `${name}.secret`), `${secret}\n`, { mode: 0o600 });
  const jwksFile = join(dir, 'jwks.json');
  const jwksUrl = pathToFileURL(jwksFile).href;
  const svc = await startService(authService, {
    env: {
      AUTH_KEYS_DIR: keysDir,
      JWKS_FILE: jwksFile,
      SERVICE_CLIENTS_DIR: clientsDir,
      HMS_ADMIN_USERNAME: ADMIN.username,
      HMS_ADMIN_PASSWORD: ADMIN.password,
      KEY_ACTIVATION_DELAY_SEC: '0',
      TRUSTED_PROXIES: '127.0.0.1,::1',
      ...env,
    },
    jwksUrl,
    ...(opts.store ? { store: opts.store } : {}),
  });
  return Object.assign(svc, { dir, keysDir, jwksFile, jwksUrl });
}

/**
 * Starts the auth service (as `startAuth`) for this test file and closes it after the file; `ready`
 * gets it once it is up. Answers a getter.
 */
export function useAuth(
  env: Record<string, string> = {},
  ready?: (svc: AuthUnderTest) => void | Promise<void>,
): () => AuthUnderTest {
  const auth = useStarted(() => startAuth(env), START_TIMEOUT_MS);
  if (ready)
    beforeAll(async () => {
      await ready(auth());
    });
  return auth;
}

/** The service's own private key for `kid`, read from its key directory as an insider would. */
export async function privateKeyOf(svc: AuthUnderTest, kid: string): Promise<CryptoKey> {
  const jwk = JSON.parse(readFileSync(join(svc.keysDir, `${kid}.jwk.json`), 'utf8')) as JWK;
  return (await importJWK(
    { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d },
    'ES256',
  )) as CryptoKey;
}

/** Mints tokens with the key the service signs with now: tokens its own guard trusts. */
export async function signingKeys(svc: AuthUnderTest): Promise<Pick<TestKeys, 'mint'>> {
  const kid = decodeProtectedHeader(await adminToken(svc)).kid ?? '';
  const privateKey = await privateKeyOf(svc, kid);
  return { mint: (opts) => mintToken(privateKey, kid, opts) };
}

/** A client address of its own for a test (sent as X-Forwarded-For, which the test service trusts from loopback). */
export function newIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export function login(svc: RunningService, username: string, password: string, ip = newIp()) {
  return svc.request<TokenPair>('POST', `${AUTH}/login`, {
    body: { username, password },
    headers: { 'x-forwarded-for': ip },
  });
}

/** Logs in and fails the test unless it answers 200. */
export async function loginOk(svc: RunningService, username: string, password: string): Promise<TokenPair> {
  const res = await login(svc, username, password);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export const adminToken = async (svc: RunningService) =>
  (await loginOk(svc, ADMIN.username, ADMIN.password)).access_token;

let n = 0;
export function uniqueName(prefix = 'user'): string {
  n += 1;
  return `${prefix}${Date.now().toString(36)}${n}`;
}

export interface NewUser {
  username: string;
  password: string;
  fullName: string;
  roles: string[];
  email?: string;
  staffId?: string;
  status?: string;
}

export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const username = overrides.username ?? uniqueName();
  return {
    username,
    password: `pw-${username}-long-enough`,
    fullName: 'Grace Hopper',
    roles: ['physician'],
    email: `${username}@example.org`,
    ...overrides,
  };
}

/** Creates a user through the admin API and fails the test unless it answers 201. */
export const createUser = (svc: RunningService, token: string, input: NewUser = newUser()) =>
  postCreated<User>(svc, USERS, token, input);

export const outbox = (svc: RunningService, type?: string): Promise<OutboxRow[]> =>
  outboxRows(svc.db, type === undefined ? {} : { type });

/** The problem without what differs between any two requests (request path aside). */
export const comparable = (p: Problem) => ({ ...p, instance: undefined });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries an assertion until it passes or `timeoutMs` passes (propagation through pub/sub). */
export async function eventually(check: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(50);
    }
  }
}
