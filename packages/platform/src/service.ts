import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { ConfigError, ServiceConfigKeys, loadConfig } from './config.js';
import { PostgresDb } from './db/postgres.js';
import { kitMigrations, migrate, type Migration } from './db/migrate.js';
import type { Db } from './db/types.js';
import { createTokenVerifier, type TokenVerifier } from './http/auth.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import type { App } from './http/server.js';
import { createLogger } from './logger.js';

/** What a service is built from: everything it touches is injected (STYLE.md §1). */
export interface ServiceDeps {
  db: Db;
  logger: Logger;
  verifier: TokenVerifier;
  metrics: Metrics;
  env: NodeJS.ProcessEnv;
}

/** A service as the runners (standalone `main.ts`, the embedded launcher, tests) see it. */
export interface ServiceModule {
  name: string;
  /** This service's own migrations; the kit's are applied before them. */
  migrations: () => Migration[];
  build: (deps: ServiceDeps) => Promise<App>;
}

export function allMigrations(mod: ServiceModule): Migration[] {
  return [...kitMigrations(), ...mod.migrations()];
}

export async function prepareDatabase(mod: ServiceModule, db: Db): Promise<string[]> {
  return migrate(db, allMigrations(mod));
}

const StandaloneConfig = Type.Object({
  ...ServiceConfigKeys,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port to listen on' }),
});

/**
 * Runs one service as its own process against real infrastructure (cluster mode): reads and
 * validates configuration, migrates, listens, and drains in-flight requests on SIGTERM/SIGINT.
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
  const db = new PostgresDb({ url: cfg.DATABASE_URL, schema: mod.name, poolMax: cfg.DB_POOL_MAX });
  const applied = await prepareDatabase(mod, db);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const verifier = createTokenVerifier({
    jwksUrl: cfg.JWKS_URL,
    issuer: cfg.JWT_ISSUER,
    audience: cfg.JWT_AUDIENCE,
  });
  const metrics = createMetrics(mod.name, { processMetrics: true });
  const app = await mod.build({ db, logger, verifier, metrics, env });
  await app.listen({ host: cfg.HOST, port: cfg.PORT });
  logger.info({ url: `http://${cfg.HOST}:${cfg.PORT}` }, `${mod.name} service listening`);
  installShutdown(logger, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
    await app.close();
    await db.close();
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
