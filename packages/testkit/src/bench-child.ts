/**
 * One service of a benchmark in a process of its own, as cluster mode runs it (runStandalone):
 * what bench/scheduling and bench/dispensing (each with its own services) run in their children.
 */
import { SERVICE_PERMISSIONS } from '@hms/contracts';
import {
  createMetrics,
  eventMetricsFor,
  loadConfig,
  logDestination,
  loggerOptions,
  ModuleConfig,
  parseRetryPolicy,
  RabbitBus,
  RedisStore,
  startModule,
  type ServiceModule,
  type ServiceTokenSource,
} from '@hms/platform';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import { mintToken } from './keys.js';

/** What the bench process and its service processes say to each other over the IPC channel. */
export interface BenchChildConfig<R extends string = string> {
  role: R;
  /** The benchmark database; each service keeps its tables in a schema of its name. */
  databaseUrl: string;
  amqpUrl: string;
  /** Prefix of this run's RabbitMQ exchange and queues (every service of the run shares it). */
  amqpNamespace: string;
  redisUrl: string;
  /** Key prefix in Redis of this run (deny-list, registry, rate-limit counters). */
  redisPrefix: string;
  jwksUrl: string;
  /**
   * The test keys' private key and id, so the service can mint its own client-credentials token
   * (what the auth service's grant would give it: `svc:<name>` with SERVICE_PERMISSIONS).
   */
  signingKey: { jwk: Record<string, unknown>; kid: string };
  /** The service's environment on top of the process's (`<SERVICE>_URL`, RATE_LIMIT_*). */
  env: Record<string, string>;
  logFile: string;
}

export type ToBenchChild = { kind: 'stop' };

/** `managementUrl`: the service's management listener (its `/metrics`), on an ephemeral port. */
export type FromBenchChild = { kind: 'ready'; url: string; managementUrl: string } | { kind: 'stopped' };

function send(message: FromBenchChild): void {
  process.send?.(message);
}

/**
 * The service's own token, as the auth service's client-credentials grant would give it (same
 * test keys the verifiers trust): minted once and again a minute before it expires.
 */
async function serviceToken(config: BenchChildConfig, name: string): Promise<ServiceTokenSource> {
  const key = (await importJWK(config.signingKey.jwk as JWK, 'ES256')) as CryptoKey;
  const scope = [...((SERVICE_PERMISSIONS as Record<string, readonly string[]>)[name] ?? [])];
  let cached: { token: string; until: number } | undefined;
  return {
    async token() {
      if (cached && Date.now() < cached.until) return cached.token;
      const token = await mintToken(key, config.signingKey.kid, {
        sub: `svc:${name}`,
        scope,
        expiresInSec: 900,
      });
      cached = { token, until: Date.now() + 840_000 };
      return token;
    },
  };
}

/**
 * The service through the kit's `startModule`, as `runStandalone` starts it: PostgresDb from
 * DATABASE_URL (the pool at DB_POOL_MAX's default) and the relay's own connection, RabbitMQ with
 * the configured prefetch and retry policy, Redis with the deny-list, registry and balancer on it,
 * the token verifier, metrics with process metrics, one log line per request at level info (to a
 * file). Two differences, both names only: the RabbitMQ exchange and queues and the Redis keys
 * carry this run's prefix, so runs (and test suites) sharing the brokers never meet.
 */
async function start(
  config: BenchChildConfig,
  mod: ServiceModule,
): Promise<{ url: string; managementUrl: string; close(): Promise<void> }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...config.env,
    DATABASE_URL: config.databaseUrl,
    JWKS_URL: config.jwksUrl,
  };
  const cfg = loadConfig(ModuleConfig, env);
  const logger = pino(loggerOptions(mod.name, 'info'), logDestination(config.logFile));
  const metrics = createMetrics(mod.name, { processMetrics: true });
  const store = new RedisStore(config.redisUrl, config.redisPrefix);
  const bus = await RabbitBus.connect({
    url: config.amqpUrl,
    logger,
    metrics: eventMetricsFor(metrics.registry),
    prefetch: cfg.EVENT_PREFETCH,
    retry: parseRetryPolicy(cfg.EVENT_MAX_ATTEMPTS, cfg.EVENT_RETRY_DELAYS_MS),
    namespace: config.amqpNamespace,
  });
  const running = await startModule(mod, {
    env,
    store,
    bus,
    logger,
    metrics,
    serviceToken: await serviceToken(config, mod.name),
    listen: { host: '127.0.0.1', port: 0 },
  });
  return {
    url: running.url,
    managementUrl: running.management?.address ?? '',
    async close() {
      await running.close();
      await bus.destroy();
      await bus.close();
      await store.close();
    },
  };
}

/**
 * The body of a benchmark's service process: reads its configuration from argv[2], starts the
 * module of its role, tells the bench process its URL over IPC and stops when told to (or when
 * the bench process goes away).
 */
export async function runBenchChild(modules: Record<string, ServiceModule>): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as BenchChildConfig;
  const mod = modules[config.role];
  if (!mod) throw new Error(`no module for role ${config.role}`);
  const server = await start(config, mod);

  process.on('message', (message: ToBenchChild) => {
    if (message.kind !== 'stop') return;
    void server.close().then(() => {
      send({ kind: 'stopped' });
      process.disconnect();
    });
  });
  // the bench process went away (it failed): do not linger
  process.on('disconnect', () => process.exit(0));
  send({ kind: 'ready', url: server.url, managementUrl: server.managementUrl });
}
