import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IMPLEMENTED_SERVICES, SERVICES } from '@hms/contracts';
import {
  EmbeddedPostgres,
  InProcessBus,
  ManagementServer,
  MemoryStore,
  ServiceTokenProvider,
  createLogger,
  createMetrics,
  eventMetricsFor,
  openSharedInfrastructure,
  startModule,
  type Db,
  type Logger,
  type RunningModule,
  type ServiceModule,
} from '@hms/platform';
import { bootstrapAdmin, type BootstrapResult } from '@hms/auth';
import type { readEmbeddedConfig } from './config.js';
import { ensureClientSecrets } from './secrets.js';
import { readTemplate } from './template.js';

/**
 * The module of every service that exists (IMPLEMENTED_SERVICES in the contracts), imported by
 * its package name, `@hms/<name>`, which exports it as `<name>Service`.
 */
export async function loadModules(names: readonly string[] = IMPLEMENTED_SERVICES): Promise<ServiceModule[]> {
  return Promise.all(
    names.map(async (name) => {
      const exported = ((await import(`@hms/${name}`)) as Record<string, unknown>)[`${name}Service`];
      const mod = exported as ServiceModule | undefined;
      if (mod?.name !== name) throw new Error(`@hms/${name} does not export its module as ${name}Service`);
      return mod;
    }),
  );
}

export interface RunningPlatform {
  services: { name: string; url: string }[];
  logger: Logger;
  /** The first administrator, when this start created it (with its password when generated). */
  admin: BootstrapResult;
  authUrl: string;
  /** The management listener of the process: `/metrics` of every service, event administration. */
  managementUrl: string;
  /** The auth service's database, for the demo seeding. */
  authDb: Db;
  close(): Promise<void>;
}

/** One process per data dir: a second one would corrupt the embedded database. */
function takeDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'hms.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8'));
    let alive = false;
    try {
      if (pid > 0 && pid !== process.pid) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`another HMS process (pid ${pid}) is using ${dataDir}`);
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

export async function startPlatform(cfg: ReturnType<typeof readEmbeddedConfig>): Promise<RunningPlatform> {
  const logger = createLogger('hms', cfg.LOG_LEVEL);
  const unlock = takeDataDirLock(cfg.HMS_DATA_DIR);
  const modules = await loadModules();
  // a first start loads the cluster migrated at build time, when it matches these modules
  const pg = await EmbeddedPostgres.open(join(cfg.HMS_DATA_DIR, 'pg'), { template: readTemplate(modules) });
  // the auth service signs with keys under keys/auth and publishes their public half as
  // keys/jwks.json, the file every service's guard reads (re-read when it changes)
  const jwksFile = join(cfg.HMS_DATA_DIR, 'keys', 'jwks.json');
  const clientsDir = join(cfg.HMS_DATA_DIR, 'secrets', 'clients');
  const clientSecrets = ensureClientSecrets(clientsDir);
  const authUrl = `http://${cfg.HOST}:${cfg.PORT + SERVICES.auth.offset}`;
  const env: NodeJS.ProcessEnv = {
    KEY_ACTIVATION_DELAY_SEC: '2', // verifiers re-read the JWKS file within a second
    TRUSTED_PROXIES: '127.0.0.1,::1', // the gateway, on this machine
    ...process.env,
    HMS_DATA_DIR: cfg.HMS_DATA_DIR, // a service keeping files of its own (notification, audit) puts them here
    AUTH_KEYS_DIR: join(cfg.HMS_DATA_DIR, 'keys', 'auth'),
    JWKS_FILE: jwksFile,
    SERVICE_CLIENTS_DIR: clientsDir,
  };
  const store = new MemoryStore();
  const shared = await openSharedInfrastructure({ store, env, jwksUrl: pathToFileURL(jwksFile).href });
  // one registry for the process-wide parts (process metrics, the shared bus)
  const platformMetrics = createMetrics('hms', { processMetrics: true });
  const bus = new InProcessBus({ metrics: eventMetricsFor(platformMetrics.registry) });
  const serviceTokenOf = (name: string) => {
    const clientSecret = clientSecrets.get(name);
    return clientSecret
      ? new ServiceTokenProvider({ authUrl: () => authUrl, clientId: name, clientSecret })
      : undefined;
  };
  // one management listener for the process: every module's metrics and dead letters, by name
  const management = new ManagementServer({ logger, verifier: shared.verifier, metrics: platformMetrics });
  const running: RunningModule[] = [];
  const services: { name: string; url: string }[] = [];
  const closeAll = async () => {
    await management.close().catch(() => undefined);
    for (const r of running) await r.close().catch(() => undefined);
    await shared.close();
    await bus.close();
    await store.close();
    await pg.close();
    unlock();
  };
  const authDb = pg.forService('auth');
  let admin: BootstrapResult = { created: false };
  const start = async (mod: ServiceModule) => {
    const offset = (SERVICES as Record<string, { offset: number }>)[mod.name]?.offset ?? 0;
    const serviceToken = serviceTokenOf(mod.name);
    const module = await startModule(mod, {
      env,
      shared,
      db: pg.forService(mod.name),
      bus,
      logger: createLogger(mod.name, cfg.LOG_LEVEL),
      metrics: createMetrics(mod.name),
      ...(serviceToken ? { serviceToken } : {}),
      listen: { host: cfg.HOST, port: cfg.PORT + offset },
      management,
    });
    running.push(module);
    return { name: mod.name, url: module.url };
  };
  try {
    // The domain services start together (their migrations queue on the one PGlite, while key
    // generation, password hashing and file reads overlap); the gateway starts once they are
    // registered, so its first read of their OpenAPI documents finds every route.
    const edge = modules.filter((m) => m.name === 'gateway');
    const started = await Promise.allSettled(modules.filter((m) => !edge.includes(m)).map(start));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of started) if (r.status === 'fulfilled') services.push(r.value);
    // the first administrator's password hash (argon2, off the main thread) overlaps the gateway's start
    [admin] = await Promise.all([
      bootstrapAdmin(authDb, env, { generatePassword: true }),
      ...edge.map(async (m) => services.push(await start(m))),
    ]);
    await management.listen(cfg.HOST, cfg.MANAGEMENT_PORT ?? cfg.PORT + 100);
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    services,
    logger,
    admin,
    authUrl,
    managementUrl: management.address,
    authDb,
    close: closeAll,
  };
}
