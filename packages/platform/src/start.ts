import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { ConfigError, ServiceConfigKeys, loadConfig, secret } from './config.js';
import { PostgresDb } from './db/postgres.js';
import type { Db } from './db/types.js';
import type { EventBus } from './events/bus.js';
import { eventMetricsFor } from './events/metrics.js';
import { RabbitBus } from './events/rabbitmq.js';
import { createTokenVerifier, type TokenVerifier } from './http/auth.js';
import { ManagementServer } from './http/management.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import type { Clock } from './http/routes.js';
import type { App } from './http/server.js';
import { RedisStore } from './kv/redis.js';
import type { KeyValueStore } from './kv/types.js';
import { createLogger } from './logger.js';
import { ChainedSource, LoadBalancer, ServiceRegistry, StaticRegistry } from './registry.js';
import { DenyList } from './security/deny-list.js';
import { ServiceTokenProvider, type ServiceTokenSource } from './security/service-token.js';
import {
  EventConfigKeys,
  installShutdown,
  parseRetryPolicy,
  registerInstance,
  relayDatabase,
  startServiceRuntime,
  type RunningServiceRuntime,
  type RuntimeTiming,
  type ServiceModule,
} from './service.js';
import { startTracing, stopTracing } from './tracing.js';

/**
 * The configuration a service module runs with (STYLE.md §9): the keys every service reads, its
 * events' settings, where it listens, and the infrastructure it connects to. An adapter handed to
 * `startModule` (embedded mode, tests, benchmarks) makes its key unnecessary; a missing one is
 * reported by name.
 */
export const ModuleConfig = Type.Object({
  ...ServiceConfigKeys,
  ...EventConfigKeys,
  DATABASE_URL: Type.Optional(ServiceConfigKeys.DATABASE_URL),
  JWKS_URL: Type.Optional(ServiceConfigKeys.JWKS_URL),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port to listen on' }),
  MANAGEMENT_HOST: Type.String({
    default: '127.0.0.1',
    description:
      'address of the management listener (/metrics, event administration): loopback, or the pod address for a scraper; never a public interface',
  }),
  MANAGEMENT_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 9464,
    description: 'port of the management listener',
  }),
  AMQP_URL: Type.Optional(secret({ description: 'RabbitMQ, e.g. amqp://user:pass@rabbitmq:5672/hms' })),
  REDIS_URL: Type.Optional(secret({ description: 'Redis, e.g. redis://:pass@redis:6379/0' })),
  PUBLIC_URL: Type.Optional(
    Type.String({ description: 'URL other services reach this instance at (registry)' }),
  ),
  ZONE: Type.String({ default: '', description: 'availability zone; callers prefer instances in their own' }),
  SERVICE_CLIENT_SECRET: Type.Optional(secret({ description: "this service's client-credentials secret" })),
  AUTH_URL: Type.Optional(
    Type.String({ description: 'static address of the auth service (else the registry)' }),
  ),
});
export type ModuleConfig = Static<typeof ModuleConfig>;

const required = <T>(value: T | undefined, key: keyof ModuleConfig): T => {
  if (value === undefined)
    throw new ConfigError([`${key}: is required — ${ModuleConfig.properties[key].description ?? ''}`]);
  return value;
};

/**
 * What the modules of one process share: the key-value store and what is built on it (the
 * deny-list every guard asks, the registry, the balancer over it and `<SERVICE>_URL`, the token
 * verifier). A standalone service has one of its own; the embedded launcher one for all.
 */
export interface SharedInfrastructure {
  store: KeyValueStore;
  denyList: DenyList;
  registry: ServiceRegistry;
  balancer: LoadBalancer;
  verifier: TokenVerifier;
  /** Stops what this made (not the store, which its opener closes). */
  close(): Promise<void>;
}

export async function openSharedInfrastructure(opts: {
  store: KeyValueStore;
  env: NodeJS.ProcessEnv;
  /** Default `JWKS_URL`. */
  jwksUrl?: string | undefined;
  logger?: Logger | undefined;
  /** Registry heartbeat and cache timings (tests shorten them). */
  registry?: { ttlMs?: number; cacheMs?: number } | undefined;
}): Promise<SharedInfrastructure> {
  const cfg = loadConfig(ModuleConfig, opts.env);
  const jwksUrl = required(opts.jwksUrl ?? cfg.JWKS_URL, 'JWKS_URL');
  const denyList = new DenyList(opts.store, { logger: opts.logger });
  await denyList.start();
  const registry = new ServiceRegistry(opts.store, { ...opts.registry, logger: opts.logger });
  const balancer = new LoadBalancer(new ChainedSource([registry, new StaticRegistry(opts.env)]), {
    zone: cfg.ZONE,
  });
  const verifier = createTokenVerifier({
    jwksUrl,
    issuer: cfg.JWT_ISSUER,
    audience: cfg.JWT_AUDIENCE,
    isRevoked: (jti) => denyList.isRevoked(jti),
    cacheSize: cfg.TOKEN_CACHE_SIZE,
    maxLifetimeSec: cfg.TOKEN_MAX_LIFETIME_SEC,
    jwksMaxAgeMs: cfg.JWKS_MAX_AGE_SEC * 1000,
  });
  return {
    store: opts.store,
    denyList,
    registry,
    balancer,
    verifier,
    async close() {
      await registry.stop();
      await denyList.stop();
    },
  };
}

export interface StartModuleOptions {
  /** The configuration (`ModuleConfig` and the service's own keys). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Adapters handed in are used (and not closed); the others are made from the configuration. */
  db?: Db;
  /** The outbox relay's own connection (standalone: one of its own); default `db`. */
  relayDb?: Db;
  bus?: EventBus;
  store?: KeyValueStore;
  /** Shared with other modules of the process (embedded); else made on `store`. */
  shared?: SharedInfrastructure;
  /** Default `JWKS_URL`. */
  jwksUrl?: string;
  logger?: Logger;
  metrics?: Metrics;
  /** Default: from `SERVICE_CLIENT_SECRET` (and `AUTH_URL` or the registry). */
  serviceToken?: ServiceTokenSource;
  timing?: Partial<RuntimeTiming>;
  /** The clock use cases are handed (default: the system clock). */
  clock?: Clock;
  registryTiming?: { ttlMs?: number; cacheMs?: number };
  /**
   * Where to listen (default `HOST`:`PORT`), or false not to; a listening instance registers in the
   * registry unless `register` is false (tests register the instances they mean to route to).
   */
  listen?: { host?: string; port?: number; register?: boolean } | false;
  /**
   * The management listener (`/metrics`, event administration): one of the process's handed in
   * (embedded: one for every module; not closed), or where this start makes and binds its own, or
   * false for none. Default: `MANAGEMENT_HOST`:`MANAGEMENT_PORT` when `listen` is not given (a
   * standalone service); an ephemeral loopback port when it is (tests, benchmarks: several
   * modules in one machine); none with `listen: false`.
   */
  management?: ManagementServer | { host?: string; port?: number } | false;
}

export interface RunningModule {
  name: string;
  app: App;
  /** `http://host:port` once listening ('' otherwise). */
  url: string;
  runtime: RunningServiceRuntime;
  /** The management listener serving it (undefined with `management: false`). */
  management: ManagementServer | undefined;
  db: Db;
  bus: EventBus;
  shared: SharedInfrastructure;
  logger: Logger;
  /** Deregisters, drains HTTP and consumers, stops jobs, then closes what this start made. */
  close(): Promise<void>;
}

/**
 * Runs a service module, the one way every runner does (DESIGN.md §1): the standalone
 * `main.ts`, the embedded launcher, the testkit and the benchmarks. Assembles what is not handed
 * in from the configuration (PostgreSQL from `DATABASE_URL`, RabbitMQ from `AMQP_URL`, Redis from
 * `REDIS_URL`, then deny-list → registry → balancer → verifier on it), starts the runtime
 * (migrations, the HTTP server with the module's routes, outbox relay, consumers, jobs), listens
 * and registers; `close()` undoes it in reverse.
 */
export async function startModule(mod: ServiceModule, opts: StartModuleOptions = {}): Promise<RunningModule> {
  const env = opts.env ?? process.env;
  const cfg = loadConfig(ModuleConfig, env);
  const logger = opts.logger ?? createLogger(mod.name, cfg.LOG_LEVEL);
  const metrics = opts.metrics ?? createMetrics(mod.name, { processMetrics: true });
  const owned: (() => Promise<void>)[] = []; // closed in reverse
  try {
    const db =
      opts.db ??
      new PostgresDb({
        url: required(cfg.DATABASE_URL, 'DATABASE_URL'),
        schema: mod.name,
        poolMax: cfg.DB_POOL_MAX,
      });
    if (!opts.db) owned.push(() => db.close());
    let relayDb = opts.relayDb;
    if (!relayDb && !opts.db) {
      const own = relayDatabase(required(cfg.DATABASE_URL, 'DATABASE_URL'), mod.name);
      owned.push(() => own.close());
      relayDb = own;
    }
    const bus =
      opts.bus ??
      (await RabbitBus.connect({
        url: required(cfg.AMQP_URL, 'AMQP_URL'),
        logger,
        metrics: eventMetricsFor(metrics.registry),
        prefetch: cfg.EVENT_PREFETCH,
        retry: parseRetryPolicy(cfg.EVENT_MAX_ATTEMPTS, cfg.EVENT_RETRY_DELAYS_MS),
      }));
    if (!opts.bus) owned.push(() => bus.close());
    let shared = opts.shared;
    if (!shared) {
      const store = opts.store ?? new RedisStore(required(cfg.REDIS_URL, 'REDIS_URL'));
      if (!opts.store) owned.push(() => store.close());
      shared = await openSharedInfrastructure({
        store,
        env,
        jwksUrl: opts.jwksUrl,
        logger,
        registry: opts.registryTiming,
      });
      owned.push(() => (shared as SharedInfrastructure).close());
    }
    const { balancer } = shared;
    const secretValue = cfg.SERVICE_CLIENT_SECRET;
    const serviceToken =
      opts.serviceToken ??
      (secretValue
        ? new ServiceTokenProvider({
            authUrl: () => cfg.AUTH_URL ?? balancer.pick('auth'),
            clientId: mod.name,
            clientSecret: secretValue,
          })
        : undefined);
    const runtime = await startServiceRuntime(mod, {
      db,
      relayDb,
      bus,
      store: shared.store,
      denyList: shared.denyList,
      registry: shared.registry,
      balancer,
      serviceToken,
      verifier: shared.verifier,
      logger,
      metrics,
      env,
      timing: { relayIntervalMs: cfg.OUTBOX_RELAY_INTERVAL_MS, ...opts.timing },
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    owned.push(() => runtime.close());
    let management: ManagementServer | undefined;
    const where =
      opts.management ??
      (opts.listen === undefined
        ? { host: cfg.MANAGEMENT_HOST, port: cfg.MANAGEMENT_PORT }
        : opts.listen && { host: '127.0.0.1', port: 0 });
    if (where instanceof ManagementServer) management = where;
    else if (where) {
      const own = new ManagementServer({ logger, verifier: shared.verifier, metrics });
      owned.push(() => own.close());
      await own.listen(where.host ?? cfg.MANAGEMENT_HOST, where.port ?? cfg.MANAGEMENT_PORT);
      management = own;
    }
    if (management) {
      const served = management;
      served.add({
        name: mod.name,
        registry: metrics.registry,
        deadLetters: runtime.consumesEvents ? bus : undefined,
      });
      owned.push(async () => served.remove(mod.name));
    }
    let url = '';
    if (opts.listen !== false) {
      const host = opts.listen?.host ?? cfg.HOST;
      await runtime.app.listen({ host, port: opts.listen?.port ?? cfg.PORT });
      const address = runtime.app.server.address();
      const port = typeof address === 'object' && address ? address.port : cfg.PORT;
      url = cfg.PUBLIC_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    }
    if (opts.listen !== false && opts.listen?.register !== false) {
      const registered = shared.registry;
      const instance = await registerInstance(registered, mod.name, url, {
        zone: cfg.ZONE,
        ready: () => Promise.all([db.ping(), bus.ping()]).then(() => true),
      });
      owned.push(() => registered.deregister(instance));
    }
    return {
      name: mod.name,
      app: runtime.app,
      url,
      runtime,
      management,
      db,
      bus,
      shared,
      logger,
      close: () => closeInReverse(owned),
    };
  } catch (err) {
    await closeInReverse(owned).catch(() => undefined);
    throw err;
  }
}

async function closeInReverse(steps: (() => Promise<void>)[]): Promise<void> {
  let failure: unknown;
  for (const step of steps.splice(0).reverse()) {
    try {
      await step();
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new Error('closing failed', { cause: failure });
}

/** What a standalone service cannot run without (nothing is handed in: every adapter is made). */
const STANDALONE_REQUIRED = ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL', 'JWKS_URL'] as const;

/**
 * Runs one service as its own process against real infrastructure (cluster mode): configuration
 * from the environment (a bad or missing key ends the process with EX_CONFIG, naming it),
 * `startModule`, and on SIGTERM/SIGINT a drain bounded by `SHUTDOWN_TIMEOUT_MS`.
 */
export async function runStandalone(mod: ServiceModule, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let running: RunningModule;
  try {
    const cfg = loadConfig(ModuleConfig, env);
    // standalone, every adapter comes from configuration: name every missing key at once
    const missing = STANDALONE_REQUIRED.filter((key) => cfg[key] === undefined);
    if (missing.length > 0)
      throw new ConfigError(
        missing.map((key) => `${key}: is required — ${ModuleConfig.properties[key].description ?? ''}`),
      );
    const logger = createLogger(mod.name, cfg.LOG_LEVEL);
    if (startTracing(mod.name, env)) logger.info('tracing exported over OTLP');
    running = await startModule(mod, { env, logger });
    logger.info({ url: running.url }, `${mod.name} service listening`);
    installShutdown(logger, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
      await running.close();
      await stopTracing();
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${mod.name}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
