import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startService, type ApiResponse, type RunningService } from '@hms/testkit';
import type { KeyValueStore } from '@hms/platform';
import { expect } from 'vitest';
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

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
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
export async function createUser(
  svc: RunningService,
  token: string,
  input: NewUser = newUser(),
): Promise<User> {
  const res = await svc.request<User>('POST', USERS, { token, body: input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export function expectProblem(res: ApiResponse, status: number): Problem {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = res.body as Problem;
  expect(problem.type).toMatch(/^urn:hms:problem:[a-z-]+$/);
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.status).toBe(status);
  expect(problem).not.toHaveProperty('stack');
  return problem;
}

export function expectValidationErrors(res: ApiResponse): { path: string; message: string }[] {
  const problem = expectProblem(res, 400);
  expect(Array.isArray(problem.errors), JSON.stringify(problem)).toBe(true);
  expect(problem.errors?.length).toBeGreaterThan(0);
  return problem.errors ?? [];
}

export interface OutboxRow {
  type: string;
  subject: string;
  envelope: { type: string; subject: string; data: Record<string, unknown> } & Record<string, unknown>;
}

export async function outbox(svc: RunningService, type?: string): Promise<OutboxRow[]> {
  const { rows } = await svc.db.query<OutboxRow>(
    `SELECT type, subject, envelope FROM outbox ${type ? 'WHERE type = $1' : ''} ORDER BY seq`,
    type ? [type] : [],
  );
  return rows;
}

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
