import type { EventEnvelope } from '@hms/contracts';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { ConfigError, ServiceConfigKeys, isTimeZone, loadConfig } from './config.js';
import { PostgresDb } from './db/postgres.js';
import type { Db } from './db/types.js';
import { AccessRecorder } from './events/access.js';
import type { EventBus } from './events/bus.js';
import { inboxHandler } from './events/consumer.js';
import { LocalCopy } from './events/local-copy.js';
import { eventMetricsFor } from './events/metrics.js';
import { notifyOnOutboxCommit } from './events/outbox.js';
import { OutboxRelay } from './events/relay.js';
import type { TokenVerifier } from './http/auth.js';
import { UpstreamClient } from './http/client.js';
import type { Metrics } from './http/metrics.js';
import { systemClock, type Clock } from './http/routes.js';
import { createHttpServer, type App } from './http/server.js';
import { uuidv7 } from './ids.js';
import type { KeyValueStore } from './kv/types.js';
import { prepareDatabase, type ServiceDeps, type ServiceModule } from './module.js';
import type { LoadBalancer, ServiceInstance, ServiceRegistry } from './registry.js';
import { Scheduler } from './scheduler.js';
import type { DenyList } from './security/deny-list.js';
import type { ServiceTokenSource } from './security/service-token.js';
import { tracedDb } from './tracing.js';

/* The runtime: one service started on the infrastructure it is handed, the same way in every mode. */

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
  serviceToken?: ServiceTokenSource;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: Metrics;
  env: NodeJS.ProcessEnv;
  timing?: Partial<RuntimeTiming>;
  /** Default: the system clock. */
  clock?: Clock;
}

export interface RunningServiceRuntime {
  app: App;
  /** Whether it consumes events (its dead letters are administered on the management listener). */
  consumesEvents: boolean;
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
          markDown: (url) => infra.balancer.markDown(url),
          logger: infra.logger,
          serviceToken: infra.serviceToken
            ? () => (infra.serviceToken as ServiceTokenSource).token()
            : undefined,
        },
        infra.metrics,
      );
      clients.set(service, client);
    }
    return client;
  };
  const kit = loadConfig(
    Type.Object({
      BODY_LIMIT: ServiceConfigKeys.BODY_LIMIT,
      FACILITY_TIMEZONE: ServiceConfigKeys.FACILITY_TIMEZONE,
      FACILITY_LOCALE: ServiceConfigKeys.FACILITY_LOCALE,
    }),
    infra.env,
  );
  if (!isTimeZone(kit.FACILITY_TIMEZONE))
    throw new ConfigError([
      `FACILITY_TIMEZONE: not an IANA time zone (got ${JSON.stringify(kit.FACILITY_TIMEZONE)})`,
    ]);
  const deps: ServiceDeps = {
    db,
    bus: infra.bus,
    store: infra.store,
    denyList: infra.denyList,
    registry: infra.registry,
    upstream,
    localCopy: (opts) => new LocalCopy(opts, db, upstream(opts.owner)),
    logger: infra.logger,
    verifier: infra.verifier,
    metrics: infra.metrics,
    scheduler,
    env: infra.env,
    clock: infra.clock ?? systemClock,
    facility: { timezone: kit.FACILITY_TIMEZONE, locale: kit.FACILITY_LOCALE },
    readiness: [
      { name: 'database', check: () => infra.db.ping() },
      { name: 'broker', check: () => infra.bus.ping() },
    ],
  };
  const access = new AccessRecorder(infra.bus, mod.name, { logger: infra.logger });
  const { access: accessOptions, ...httpOptions } = mod.http?.(infra.env) ?? {};
  const app = createHttpServer({
    service: mod.name,
    description: mod.description,
    logger: infra.logger,
    verifier: infra.verifier,
    metrics: infra.metrics,
    db,
    readiness: deps.readiness,
    bodyLimit: kit.BODY_LIMIT,
    ...(mod.errors ? { errors: mod.errors.specs } : {}),
    ...(mod.tags ? { tags: mod.tags } : {}),
    ...httpOptions,
    access: { ...accessOptions, recorder: access },
  });
  await mod.setup(app, deps);
  const consumers = mod.consumers?.(deps) ?? [];
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
        // the service's own view: an event a handler writes to the outbox wakes the relay at its commit
        db,
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
    consumesEvents: consumers.length > 0,
    relay,
    scheduler,
    async close() {
      await app.close();
      await access.close(); // what the last requests recorded goes out before the bus stops
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
