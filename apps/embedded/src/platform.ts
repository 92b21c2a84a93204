import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES } from '@hms/contracts';
import {
  DenyList,
  EmbeddedPostgres,
  InProcessBus,
  LoadBalancer,
  MemoryStore,
  ServiceRegistry,
  registerInstance,
  createLogger,
  createMetrics,
  createTokenVerifier,
  eventMetricsFor,
  startServiceRuntime,
  type Logger,
  type RunningServiceRuntime,
  type ServiceModule,
} from '@hms/platform';
import { patientService } from '@hms/patient';
import type { readEmbeddedConfig } from './config.js';
import { ensureDevKeys } from './keys.js';

/** Every service built so far, in start order. */
export const MODULES: ServiceModule[] = [patientService];

export interface RunningPlatform {
  services: { name: string; url: string }[];
  logger: Logger;
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
  const [keys, pg] = await Promise.all([
    ensureDevKeys(cfg.HMS_DATA_DIR),
    EmbeddedPostgres.open(join(cfg.HMS_DATA_DIR, 'pg')),
  ]);
  const store = new MemoryStore();
  const denyList = new DenyList(store);
  await denyList.start();
  const registry = new ServiceRegistry(store);
  const balancer = new LoadBalancer(registry);
  const verifier = createTokenVerifier({
    jwksUrl: keys.jwksUrl,
    issuer: cfg.JWT_ISSUER,
    audience: cfg.JWT_AUDIENCE,
    isRevoked: (jti) => denyList.isRevoked(jti),
  });
  // one registry for the process-wide parts (process metrics, the shared bus)
  const platformMetrics = createMetrics('hms', { processMetrics: true });
  const bus = new InProcessBus({ metrics: eventMetricsFor(platformMetrics.registry) });
  const runtimes: RunningServiceRuntime[] = [];
  const services: { name: string; url: string }[] = [];
  const closeAll = async () => {
    for (const r of runtimes) await r.close().catch(() => undefined);
    await registry.stop();
    await denyList.stop();
    await bus.close();
    await store.close();
    await pg.close();
    unlock();
  };
  try {
    for (const mod of MODULES) {
      const runtime = await startServiceRuntime(mod, {
        db: pg.forService(mod.name),
        bus,
        store,
        denyList,
        registry,
        balancer,
        verifier,
        logger: createLogger(mod.name, cfg.LOG_LEVEL),
        metrics: createMetrics(mod.name),
        env: process.env,
      });
      runtimes.push(runtime);
      const offset = (SERVICES as Record<string, { offset: number }>)[mod.name]?.offset ?? 0;
      const url = `http://${cfg.HOST}:${cfg.PORT + offset}`;
      await runtime.app.listen({ host: cfg.HOST, port: cfg.PORT + offset });
      await registerInstance(registry, mod.name, url);
      services.push({ name: mod.name, url });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    services,
    logger,
    close: closeAll,
  };
}
