import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES } from '@hms/contracts';
import {
  EmbeddedPostgres,
  createLogger,
  createMetrics,
  createTokenVerifier,
  prepareDatabase,
  type App,
  type Logger,
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
  const verifier = createTokenVerifier({ jwksUrl: keys.jwksUrl, issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE });
  const apps: App[] = [];
  const services: { name: string; url: string }[] = [];
  try {
    for (const mod of MODULES) {
      const db = pg.forService(mod.name);
      const serviceLogger = createLogger(mod.name, cfg.LOG_LEVEL);
      const applied = await prepareDatabase(mod, db);
      if (applied.length > 0) serviceLogger.info({ applied }, 'migrations applied');
      const app = await mod.build({
        db,
        logger: serviceLogger,
        verifier,
        metrics: createMetrics(mod.name, { processMetrics: apps.length === 0 }),
        env: process.env,
      });
      const offset = (SERVICES as Record<string, { offset: number }>)[mod.name]?.offset ?? 0;
      await app.listen({ host: cfg.HOST, port: cfg.PORT + offset });
      apps.push(app);
      services.push({ name: mod.name, url: `http://${cfg.HOST}:${cfg.PORT + offset}` });
    }
  } catch (err) {
    await Promise.allSettled(apps.map((a) => a.close()));
    await pg.close();
    unlock();
    throw err;
  }
  return {
    services,
    logger,
    async close() {
      await Promise.allSettled(apps.map((a) => a.close()));
      await pg.close();
      unlock();
    },
  };
}
