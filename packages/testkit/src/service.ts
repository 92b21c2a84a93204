import { SERVICE_PERMISSIONS } from '@hms/contracts';
import {
  createMetrics,
  startModule,
  type App,
  type Clock,
  type Db,
  type DenyList,
  type EventBus,
  type KeyValueStore,
  type Logger,
  type RunningModule,
  type RunningServiceRuntime,
  type RuntimeTiming,
  type ServiceModule,
} from '@hms/platform';
import { createTestBus } from './bus.js';
import { testLogger } from './phi-guard.js';
import { createTestDatabase } from './database.js';
import { createTestStore } from './store.js';
import { createTestKeys, TEST_AUDIENCE, TEST_ISSUER, type TestKeys } from './keys.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface RunningService {
  app: App;
  url: string;
  db: Db;
  bus: EventBus;
  store: KeyValueStore;
  denyList: DenyList;
  runtime: RunningServiceRuntime;
  keys: TestKeys;
  /** Real HTTP on loopback, as a client would call it. */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** The same, to its management listener (`/metrics`, `/admin/events/<service>/dead-letters`). */
  manage<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** `http://127.0.0.1:port` of its management listener. */
  managementUrl: string;
  close(): Promise<void>;
}

/**
 * Starts a service on an ephemeral loopback port against its own fresh database (real PostgreSQL
 * when TEST_DATABASE_URL is set) and a bus (real RabbitMQ when TEST_AMQP_URL is set, else
 * in-process), with test signing keys. Pass `bus` to put several services on one bus.
 */
export async function startService(
  mod: ServiceModule,
  opts: {
    env?: NodeJS.ProcessEnv;
    keys?: TestKeys;
    /** Trust this JWKS instead of the test keys' (e.g. a running auth service's). */
    jwksUrl?: string;
    bus?: EventBus;
    store?: KeyValueStore;
    /** Where the service logs (default: silent, or TEST_LOG_LEVEL to stdout). */
    logger?: Logger | undefined;
    timing?: Partial<RuntimeTiming>;
    /** The clock the service's use cases are handed (a fixed one, to test across DST changes). */
    clock?: Clock;
    /**
     * A database of the test's own instead of a fresh one (a second life of a service on the data
     * the first left: a restart, a crash); the test closes it, `close()` does not.
     */
    db?: Db;
  } = {},
): Promise<RunningService> {
  const keys = opts.keys ?? (await createTestKeys());
  const database = opts.db
    ? { db: opts.db, close: async () => undefined }
    : await createTestDatabase(mod.name);
  const ownBus = opts.bus ? undefined : await createTestBus();
  const bus = opts.bus ?? (ownBus as NonNullable<typeof ownBus>).bus;
  const ownStore = opts.store ? undefined : await createTestStore();
  const store = opts.store ?? (ownStore as NonNullable<typeof ownStore>).store;
  let running: RunningModule;
  try {
    running = await startModule(mod, {
      env: { JWT_ISSUER: TEST_ISSUER, JWT_AUDIENCE: TEST_AUDIENCE, ...opts.env },
      db: database.db,
      bus,
      store,
      jwksUrl: opts.jwksUrl ?? keys.jwksUrl,
      logger: opts.logger ?? testLogger(mod.name),
      metrics: createMetrics(mod.name),
      registryTiming: { ttlMs: 2000, cacheMs: 100 },
      timing: { relayIntervalMs: 100, ...opts.timing },
      listen: { host: '127.0.0.1', port: 0, register: false },
      management: { host: '127.0.0.1', port: 0 },
      ...(opts.clock ? { clock: opts.clock } : {}),
      // what the auth service's client-credentials grant would give this service
      serviceToken: {
        token: () =>
          keys.mint({
            sub: `svc:${mod.name}`,
            scope: [...((SERVICE_PERMISSIONS as Record<string, readonly string[]>)[mod.name] ?? [])],
          }),
      },
    });
  } catch (err) {
    await ownBus?.close();
    await ownStore?.close();
    await database.close();
    throw err;
  }
  const { app, url, runtime } = running;
  const managementUrl = running.management?.address ?? '';
  return {
    app,
    url,
    db: database.db,
    bus,
    store,
    denyList: running.shared.denyList,
    runtime,
    keys,
    managementUrl,
    request: <T>(method: string, path: string, ro?: RequestOptions) => call<T>(url, method, path, ro),
    manage: <T>(method: string, path: string, ro?: RequestOptions) =>
      call<T>(managementUrl, method, path, ro),
    async close() {
      await running.close();
      await ownBus?.close();
      await ownStore?.close();
      await database.close();
    },
  };
}

async function call<T>(
  base: string,
  method: string,
  path: string,
  ro: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...ro.headers };
  if (ro.token) headers.authorization = `Bearer ${ro.token}`;
  let body: string | undefined = ro.rawBody;
  if (ro.body !== undefined) {
    body = JSON.stringify(ro.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}
