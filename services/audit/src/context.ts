import type { Clock, Db, Logger, Scheduler } from '@hms/platform';
import type { AuditConfig } from './config.js';
import type { AuditMetrics } from './metrics.js';
import type { SigningKey } from './signing-key.js';

/** What the Audit service's use cases are handed (one per running service). */
export interface AuditContext {
  db: Db;
  clock: Clock;
  logger: Logger;
  scheduler: Scheduler;
  cfg: AuditConfig;
  key: SigningKey;
  metrics: AuditMetrics;
  /** When the newest checkpoint this instance knows of was signed (ms), for the time-based one. */
  checkpoints: { lastAt: number };
}

export const CHECKPOINT_JOB = 'audit-checkpoint';
export const VERIFY_JOB = 'audit-verify';
