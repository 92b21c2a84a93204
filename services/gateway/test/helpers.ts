import { randomBytes, randomInt } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { patientService } from '@hms/patient';
import type { Logger } from 'pino';
import {
  createTestKeys,
  createTestStore,
  startService,
  type RunningService,
  type TestKeys,
  type TestStore,
} from '@hms/testkit';
import { gatewayService } from '../src/service.js';
import { authStub } from './fixtures/auth-stub.js';

export const PATIENTS = '/api/v1/patients';

/** Environment every test gateway gets: its own rate-limit keys, so test files never share budgets. */
export function gatewayEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { RATE_LIMIT_PREFIX: `test:rl:${randomBytes(4).toString('hex')}`, ...env };
}

/** Starting several services on embedded PGlite takes long on a busy machine. */
export const STARTUP_MS = 180_000;

/** Lower-case letters only: a name no other test uses (search matches by prefix and similarity). */
export function uniqueWord(length = 10): string {
  let word = '';
  for (let i = 0; i < length; i++) word += String.fromCharCode(97 + randomInt(26));
  return word;
}

let n = 0;
export function newPatient() {
  n += 1;
  return {
    givenName: `Grace${n}`,
    familyName: `Hopper${Date.now().toString(36)}${n}`,
    birthDate: '1906-12-09',
    sex: 'female',
    address: { line1: '1 Navy Way', city: 'Arlington', country: 'US' },
    allergies: [],
    conditions: [],
  };
}

export interface Stack {
  keys: TestKeys;
  /** The JWKS file only the gateway reads (when started with `ownJwks`). */
  gatewayJwks?: string;
  store: TestStore;
  patient: RunningService;
  auth: RunningService;
  gateway: RunningService;
  close(): Promise<void>;
}

/** Makes `close()` safe to call again (a test may stop a service before the stack stops). */
export function closeOnce(svc: RunningService): void {
  const close = svc.close.bind(svc);
  let closing: Promise<void> | undefined;
  svc.close = () => (closing ??= close());
}

/**
 * The Patient service, the auth stand-in and a gateway in front of them: one signing key, one
 * key-value store (Redis when TEST_REDIS_URL is set), real HTTP between them.
 */
export async function startStack(
  env: NodeJS.ProcessEnv = {},
  opts: { ownJwks?: boolean; loggers?: { gateway?: Logger; auth?: Logger } } = {},
): Promise<Stack> {
  const keys = await createTestKeys();
  let gatewayKeys = keys;
  let gatewayJwks: string | undefined;
  if (opts.ownJwks) {
    // the same key, published in a file of the gateway's own, so a test can change what it trusts
    gatewayJwks = join(mkdtempSync(join(tmpdir(), 'hms-gw-keys-')), 'jwks.json');
    copyFileSync(fileURLToPath(keys.jwksUrl), gatewayJwks);
    gatewayKeys = { ...keys, jwksUrl: pathToFileURL(gatewayJwks).href };
  }
  const store = await createTestStore();
  const [patient, auth] = await Promise.all([
    startService(patientService, { keys, store: store.store }),
    startService(authStub, { keys, store: store.store, logger: opts.loggers?.auth }),
  ]);
  for (const svc of [patient, auth]) closeOnce(svc); // a test may stop one early
  const gateway = await startService(gatewayService, {
    logger: opts.loggers?.gateway,
    keys: gatewayKeys,
    store: store.store,
    env: gatewayEnv({ PATIENT_URL: patient.url, AUTH_URL: auth.url, ...env }),
  });
  return {
    keys,
    gatewayJwks,
    store,
    patient,
    auth,
    gateway,
    async close() {
      await gateway.close();
      await Promise.all([patient.close(), auth.close()]);
      await store.close();
    },
  };
}

/**
 * The sum of a metric's samples whose labels include `labels`, from a service's `/metrics`
 * (0 when there is none yet).
 */
export async function metric(
  svc: RunningService,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const res = await svc.manage<string>('GET', '/metrics');
  let sum = 0;
  for (const line of res.body.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** How many requests a service has answered on a route (from its RED metrics). */
export function served(svc: RunningService, route: string, method = 'GET'): Promise<number> {
  return metric(svc, 'http_request_duration_seconds_count', { method, route });
}
