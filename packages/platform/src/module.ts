import type { Logger } from 'pino';
import type { Db } from './db/types.js';
import { kitMigrations, migrate, type Migration } from './db/migrate.js';
import type { ErrorSpec } from './errors.js';
import type { EventBus } from './events/bus.js';
import type { EventConsumer } from './events/consumer.js';
import type { HttpAccessRecording } from './events/access.js';
import type { LocalCopy, LocalCopyOptions } from './events/local-copy.js';
import type { TokenVerifier } from './http/auth.js';
import type { UpstreamClient } from './http/client.js';
import type { Metrics } from './http/metrics.js';
import type { Clock } from './http/routes.js';
import type { App, HttpServerOptions, ReadinessCheck } from './http/server.js';
import type { KeyValueStore } from './kv/types.js';
import type { ServiceRegistry } from './registry.js';
import type { Scheduler } from './scheduler.js';
import type { DenyList } from './security/deny-list.js';

/* The module contract: what a service is, as every runner sees it (DESIGN.md §1). */

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
  /** A copy of another service's data, fed by its events and read through to it when it lacks an entry. */
  localCopy: <T>(opts: LocalCopyOptions<T>) => LocalCopy<T>;
  logger: Logger;
  verifier: TokenVerifier;
  metrics: Metrics;
  /** Database and broker checks for `/health/ready`. */
  readiness: ReadinessCheck[];
  scheduler: Scheduler;
  env: NodeJS.ProcessEnv;
  /** The current time, for use cases (tests hand in a fixed one). */
  clock: Clock;
  /** The facility's time zone (IANA) and default language, for every service alike. */
  facility: { timezone: string; locale: string };
}

/**
 * A service as the runners (standalone, embedded, tests, benchmarks: all through `startModule`)
 * see it. The runtime makes the service's HTTP server (the kit's, with `BODY_LIMIT` and the rest
 * of the shared configuration); the module adds its routes, hooks and jobs to it in `setup`.
 */
export interface ServiceModule {
  name: string;
  /** What the service does, one line (its OpenAPI document's description). */
  description: string;
  /** This service's own migrations; the kit's are applied before them. */
  migrations: () => Migration[];
  /** HTTP server options beyond the kit's, from the service's configuration (the gateway's). */
  http?: (env: NodeJS.ProcessEnv) => ModuleHttpOptions;
  /** Adds the service's routes, hooks and background jobs to the server the runtime made. */
  setup: (app: App, deps: ServiceDeps) => Promise<void> | void;
  /** The events it consumes; all arrive on one queue named after the service. */
  consumers?: (deps: ServiceDeps) => EventConsumer[];
  /** Its error catalogue (`defineErrors`), beyond the kit's common errors: published in its OpenAPI. */
  errors?: { specs: Record<string, ErrorSpec> };
  /** The tags its operations are grouped under, name → description (declared in its OpenAPI). */
  tags?: Record<string, string>;
}

/** What a module may set on its HTTP server besides what the kit sets for every service. */
export type ModuleHttpOptions = Pick<HttpServerOptions, 'publicPrefixes' | 'trustCaller' | 'maxUrlLength'> & {
  /** How the gateway records the requests it refuses, and tells the client's address. */
  access?: Omit<HttpAccessRecording, 'recorder'>;
};

export function allMigrations(mod: ServiceModule): Migration[] {
  return [...kitMigrations(), ...mod.migrations()];
}

export async function prepareDatabase(mod: ServiceModule, db: Db): Promise<string[]> {
  return migrate(db, allMigrations(mod));
}
