/**
 * One service of the benchmark in a process of its own, as cluster mode runs it (runStandalone):
 * Staff, Patient, Inventory, Pharmacy or the gateway (a copy of bench/scheduling's child.ts with
 * these services). Started by main.ts, which sends its configuration
 * as argv[2] and is told the listening URL over IPC.
 */
import { SERVICE_PERMISSIONS } from '@hms/contracts';
import { gatewayService } from '@hms/gateway';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { pharmacyService } from '@hms/pharmacy';
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
import { staffService } from '@hms/staff';
import { mintToken } from '@hms/testkit';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import type { ChildConfig, FromChild, Role, ToChild } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

const MODULES: Record<Role, ServiceModule> = {
  staff: staffService,
  patient: patientService,
  inventory: inventoryService,
  pharmacy: pharmacyService,
  gateway: gatewayService,
};

function send(message: FromChild): void {
  process.send?.(message);
}

/**
 * The service's own token, as the auth service's client-credentials grant would give it (same
 * test keys the verifiers trust): minted once and again a minute before it expires.
 */
async function serviceToken(name: string): Promise<ServiceTokenSource> {
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
async function start(): Promise<{ url: string; close(): Promise<void> }> {
  const mod = MODULES[config.role];
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
    serviceToken: await serviceToken(mod.name),
    listen: { host: '127.0.0.1', port: 0 },
  });
  return {
    url: running.url,
    async close() {
      await running.close();
      await bus.destroy();
      await bus.close();
      await store.close();
    },
  };
}

const server = await start();

process.on('message', (message: ToChild) => {
  if (message.kind !== 'stop') return;
  void server.close().then(() => {
    send({ kind: 'stopped' });
    process.disconnect();
  });
});
// the bench process went away (it failed): do not linger
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready', url: server.url });
