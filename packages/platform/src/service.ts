import { Type } from '@sinclair/typebox';
import type { EventEnvelope } from '@hms/contracts';
import type { Logger } from 'pino';
import { ConfigError, ServiceConfigKeys, loadConfig, secret } from './config.js';
import { PostgresDb } from './db/postgres.js';
import { kitMigrations, migrate, type Migration } from './db/migrate.js';
import type { Db } from './db/types.js';
import { DEFAULT_PREFETCH, DEFAULT_RETRY, type EventBus, type RetryPolicy } from './events/bus.js';
import { deadLetterRoutes } from './events/admin.js';
import { inboxHandler, type EventConsumer } from './events/consumer.js';
import { eventMetricsFor } from './events/metrics.js';
import { notifyOnOutboxCommit } from './events/outbox.js';
import { RabbitBus } from './events/rabbitmq.js';
import { OutboxRelay } from './events/relay.js';
import { createTokenVerifier, type TokenVerifier } from './http/auth.js';
import { UpstreamClient } from './http/client.js';
import { RedisStore } from './kv/redis.js';
import type { KeyValueStore } from './kv/types.js';
import {
  ChainedSource,
  LoadBalancer,
  ServiceRegistry,
  StaticRegistry,
  type ServiceInstance,
} from './registry.js';
import { DenyList } from './security/deny-list.js';
import { ServiceTokenProvider } from './security/service-token.js';
import { uuidv7 } from './ids.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import type { App, ReadinessCheck } from './http/server.js';
import { createLogger } from './logger.js';
import { Scheduler } from './scheduler.js';
import { startTracing, stopTracing, tracedDb } from './tracing.js';

/** What a service is built from: everything it touches is injected (STYLE.md §1). */
export interface ServiceDeps {
  db: Db;
  bus: EventBus;
  /** Redis in cluster mode, memory when embedded: caches, counters, deny-list, registry. */
  store: KeyValueStore;
  denyList: DenyList;
  registry: ServiceRegistry;
  /** A resilient HTTP client to another service, resolved through the registry. */
  upstream: (service: string) => UpstreamClient;
  logger: Logger;
  verifier: TokenVerifier;
  metrics: Metrics;
  /** Database and broker checks for `/health/ready`. */
  readiness: ReadinessCheck[];
  scheduler: Scheduler;
  env: NodeJS.ProcessEnv;
}

/** A service as the runners (standalone `main.ts`, the embedded launcher, tests) see it. */
export interface ServiceModule {
  name: string;
  /** This service's own migrations; the kit's are applied before them. */
  migrations: () => Migration[];
  /** Adds the service's routes to a kit server; the runtime adds its own and calls `ready()`. */
  build: (deps: ServiceDeps) => Promise<App>;
  /** The events it consumes; all arrive on one queue named after the service. */
  consumers?: (deps: ServiceDeps) => EventConsumer[];
}

export function allMigrations(mod: ServiceModule): Migration[] {
  return [...kitMigrations(), ...mod.migrations()];
}

export async function prepareDatabase(mod: ServiceModule, db: Db): Promise<string[]> {
  return migrate(db, allMigrations(mod));
}

/** Background timings; tests shorten them. */
export interface RuntimeTiming {
  /** Fallback poll of the outbox; commits also trigger the relay at once. */
  relayIntervalMs: number;
  /** Refresh of the outbox-backlog and DLQ-depth gauges. */
  gaugeIntervalMs: number;
  /** How long published outbox rows and idempotency keys are kept. */
  retentionHours: number;
}

export const DEFAULT_TIMING: RuntimeTiming = {
  relayIntervalMs: 1000,
  gaugeIntervalMs: 15_000,
  retentionHours: 72,
};

export interface Infrastructure {
  db: Db;
  /**
   * The outbox relay's own handle on the service database (one connection), so that requests
   * queueing for `db`'s pool never hold up publishing; `db` when not given. Closed by the caller.
   */
  relayDb?: Db;
  bus: EventBus;
  store: KeyValueStore;
  denyList: DenyList;
  registry: ServiceRegistry;
  /** Where other services are: the registry, then `<SERVICE>_URL`. */
  balancer: LoadBalancer;
  /** This service's own token, for calls it makes on its own. */
  serviceToken?: ServiceTokenProvider;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: Metrics;
  env: NodeJS.ProcessEnv;
  timing?: Partial<RuntimeTiming>;
}

export interface RunningServiceRuntime {
  app: App;
  relay: OutboxRelay;
  scheduler: Scheduler;
  /** Stops HTTP (draining requests), consuming (finishing handlers) and background jobs, in that order. */
  close(): Promise<void>;
}

/**
 * Builds and starts one service on the given infrastructure, the same way in every mode:
 * migrations, HTTP app, outbox relay, event consumers (behind the inbox), background jobs.
 */
export async function startServiceRuntime(
  mod: ServiceModule,
  infra: Infrastructure,
): Promise<RunningServiceRuntime> {
  const timing = { ...DEFAULT_TIMING, ...infra.timing };
  const applied = await prepareDatabase(mod, infra.db);
  if (applied.length > 0) infra.logger.info({ applied }, 'migrations applied');
  const eventMetrics = eventMetricsFor(infra.metrics.registry);
  const scheduler = new Scheduler(infra.db, infra.logger);
  const relay = new OutboxRelay(infra.db, infra.bus, {
    connection: infra.relayDb,
    metrics: eventMetrics,
    logger: infra.logger,
  });
  const db = notifyOnOutboxCommit(tracedDb(infra.db), () => scheduler.trigger('outbox-relay'));
  const clients = new Map<string, UpstreamClient>();
  const upstream = (service: string): UpstreamClient => {
    let client = clients.get(service);
    if (!client) {
      client = new UpstreamClient(
        {
          name: service,
          resolve: () => infra.balancer.pick(service),
          onConnectionError: (url) => infra.balancer.markDown(url),
          serviceToken: infra.serviceToken
            ? () => (infra.serviceToken as ServiceTokenProvider).token()
            : undefined,
        },
        infra.metrics,
      );
      clients.set(service, client);
    }
    return client;
  };
  const deps: ServiceDeps = {
    db,
    bus: infra.bus,
    store: infra.store,
    denyList: infra.denyList,
    registry: infra.registry,
    upstream,
    logger: infra.logger,
    verifier: infra.verifier,
    metrics: infra.metrics,
    scheduler,
    env: infra.env,
    readiness: [
      { name: 'database', check: () => infra.db.ping() },
      { name: 'broker', check: () => infra.bus.ping() },
    ],
  };
  const app = await mod.build(deps);
  const consumers = mod.consumers?.(deps) ?? [];
  if (consumers.length > 0) deadLetterRoutes(app, infra.bus, mod.name);
  await app.ready();

  if (consumers.length > 0) {
    const types = [...new Set(consumers.flatMap((c) => [...c.types]))];
    const route = (envelope: EventEnvelope) =>
      consumers.find(
        (c) =>
          (c.types as readonly string[]).includes('*') ||
          (c.types as readonly string[]).includes(envelope.type),
      );
    await infra.bus.subscribe({
      consumer: mod.name,
      types: types.includes('*') ? ['*'] : types,
      handler: inboxHandler({
        db: infra.db,
        consumer: mod.name,
        metrics: eventMetrics,
        logger: infra.logger,
        handle: async (tx, envelope) => route(envelope)?.handle(tx, envelope),
      }),
    });
  }

  // not exclusive: drain() takes the relay's advisory lock itself, on its own connection
  scheduler.every('outbox-relay', timing.relayIntervalMs, () => relay.drain(), { exclusive: false });
  scheduler.every(
    'event-gauges',
    timing.gaugeIntervalMs,
    async () => {
      await relay.backlog();
      if (consumers.length > 0)
        eventMetrics.dlqDepth.set({ consumer: mod.name }, await infra.bus.deadLetterDepth(mod.name));
    },
    { exclusive: false },
  );
  scheduler.every('retention', 3_600_000, async () => {
    await relay.prune(timing.retentionHours);
    await infra.db.query(
      'DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)',
      [timing.retentionHours],
    );
    await infra.db.query('DELETE FROM inbox WHERE received_at < now() - make_interval(hours => $1)', [
      timing.retentionHours * 10,
    ]);
  });
  scheduler.start();

  return {
    app,
    relay,
    scheduler,
    async close() {
      await app.close();
      await infra.bus.stopConsuming();
      await scheduler.stop();
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}

/** The outbox relay's handle on a service database: one connection of its own (see `Infrastructure`). */
export function relayDatabase(url: string, schema: string): PostgresDb {
  return new PostgresDb({ url, schema, poolMax: 1, applicationName: `hms-${schema}-relay` });
}

/** Announces a listening instance in the registry; its health is its readiness. */
export async function registerInstance(
  registry: ServiceRegistry,
  name: string,
  url: string,
  opts: { zone?: string; version?: string; ready?: () => Promise<boolean> } = {},
): Promise<ServiceInstance> {
  const instance: ServiceInstance = {
    name,
    id: `${name}-${uuidv7()}`,
    url,
    version: opts.version ?? '0.1.0',
    zone: opts.zone ?? '',
    healthy: true,
    startedAt: new Date().toISOString(),
  };
  await registry.register(instance, opts.ready);
  return instance;
}

export function parseRetryPolicy(maxAttempts: number, delays: string): RetryPolicy {
  const delaysMs = delays
    .split(',')
    .map((d) => Number(d.trim()))
    .filter((d) => Number.isInteger(d) && d > 0);
  return { maxAttempts, delaysMs: delaysMs.length > 0 ? delaysMs : DEFAULT_RETRY.delaysMs };
}

export const EventConfigKeys = {
  EVENT_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 5,
    description: 'deliveries before dead-lettering',
  }),
  EVENT_RETRY_DELAYS_MS: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '1000,5000,30000,120000',
    description: 'delay before each retry, ms, comma-separated; the last repeats',
  }),
  EVENT_PREFETCH: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: DEFAULT_PREFETCH,
    description: 'unacked deliveries per consumer (also how many the inbox may group into one commit)',
  }),
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({
    minimum: 10,
    default: 1000,
    description: 'outbox poll fallback, ms',
  }),
};

const StandaloneConfig = Type.Object({
  ...ServiceConfigKeys,
  ...EventConfigKeys,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port to listen on' }),
  AMQP_URL: secret({ description: 'RabbitMQ, e.g. amqp://user:pass@rabbitmq:5672/hms' }),
  REDIS_URL: secret({ description: 'Redis, e.g. redis://:pass@redis:6379/0' }),
  PUBLIC_URL: Type.Optional(
    Type.String({ description: 'URL other services reach this instance at (registry)' }),
  ),
  ZONE: Type.String({ default: '', description: 'availability zone; callers prefer instances in their own' }),
  SERVICE_CLIENT_SECRET: Type.Optional(secret({ description: "this service's client-credentials secret" })),
  AUTH_URL: Type.Optional(
    Type.String({ description: 'static address of the auth service (else the registry)' }),
  ),
});

/**
 * Runs one service as its own process against real infrastructure (cluster mode): reads and
 * validates configuration, migrates, listens, and on SIGTERM/SIGINT drains in-flight requests
 * and handlers before closing.
 */
export async function runStandalone(mod: ServiceModule, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig(StandaloneConfig, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${mod.name}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(mod.name, cfg.LOG_LEVEL);
  if (startTracing(mod.name, env)) logger.info('tracing exported over OTLP');
  const metrics = createMetrics(mod.name, { processMetrics: true });
  const db = new PostgresDb({ url: cfg.DATABASE_URL, schema: mod.name, poolMax: cfg.DB_POOL_MAX });
  const relayDb = relayDatabase(cfg.DATABASE_URL, mod.name);
  const bus = await RabbitBus.connect({
    url: cfg.AMQP_URL,
    logger,
    metrics: eventMetricsFor(metrics.registry),
    prefetch: cfg.EVENT_PREFETCH,
    retry: parseRetryPolicy(cfg.EVENT_MAX_ATTEMPTS, cfg.EVENT_RETRY_DELAYS_MS),
  });
  const store = new RedisStore(cfg.REDIS_URL);
  const denyList = new DenyList(store, { logger });
  await denyList.start();
  const registry = new ServiceRegistry(store, { logger });
  const balancer = new LoadBalancer(new ChainedSource([registry, new StaticRegistry(env)]), {
    zone: cfg.ZONE,
  });
  const secretValue = cfg.SERVICE_CLIENT_SECRET;
  const serviceToken = secretValue
    ? new ServiceTokenProvider({
        authUrl: () => cfg.AUTH_URL ?? balancer.pick('auth'),
        clientId: mod.name,
        clientSecret: secretValue,
      })
    : undefined;
  const verifier = createTokenVerifier({
    jwksUrl: cfg.JWKS_URL,
    issuer: cfg.JWT_ISSUER,
    audience: cfg.JWT_AUDIENCE,
    isRevoked: (jti) => denyList.isRevoked(jti),
    cacheSize: cfg.TOKEN_CACHE_SIZE,
    maxLifetimeSec: cfg.TOKEN_MAX_LIFETIME_SEC,
    jwksMaxAgeMs: cfg.JWKS_MAX_AGE_SEC * 1000,
  });
  const runtime = await startServiceRuntime(mod, {
    db,
    relayDb,
    bus,
    store,
    denyList,
    registry,
    balancer,
    serviceToken,
    verifier,
    logger,
    metrics,
    env,
    timing: { relayIntervalMs: cfg.OUTBOX_RELAY_INTERVAL_MS },
  });
  await runtime.app.listen({ host: cfg.HOST, port: cfg.PORT });
  const url = cfg.PUBLIC_URL ?? `http://${cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST}:${cfg.PORT}`;
  const instance = await registerInstance(registry, mod.name, url, {
    zone: cfg.ZONE,
    ready: () => Promise.all([db.ping(), bus.ping()]).then(() => true),
  });
  logger.info({ url, instance: instance.id }, `${mod.name} service listening`);
  installShutdown(logger, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
    await registry.deregister(instance);
    await runtime.close();
    await registry.stop();
    await denyList.stop();
    await bus.close();
    await store.close();
    await relayDb.close();
    await db.close();
    await stopTracing();
  });
}

/** On SIGTERM/SIGINT: stop accepting, finish in-flight work, close resources, exit. */
export function installShutdown(logger: Logger, timeoutMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
