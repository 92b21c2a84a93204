import { readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { latestCheckpoint, scheduledCheckpoint } from './checkpoints.js';
import { auditConfig } from './config.js';
import { CHECKPOINT_JOB, VERIFY_JOB, type AuditContext } from './context.js';
import { AuditErrors } from './errors.js';
import { auditConsumers } from './events.js';
import { auditMetrics } from './metrics.js';
import { auditRoutes } from './routes/audit.js';
import { loadSigningKey } from './signing-key.js';
import { scheduledVerification } from './verify.js';

/** The Audit service: the tamper-evident trail of every event and every access (DOMAIN.md "Audit", issue #14). */
export const auditService: ServiceModule = {
  name: 'audit',
  description:
    'The tamper-evident audit trail: every event and every access, hash-chained, with signed checkpoints',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'audit'),
  errors: AuditErrors,
  tags: {
    audit:
      'The tamper-evident audit trail: every event and every access to patient data, hash-chained, searchable, verifiable against signed checkpoints.',
  },
  async setup(app, deps) {
    const ctx = await contextOf(deps);
    auditRoutes(app, ctx);
    // looked at often, signed when due (AUDIT_CHECKPOINT_EVERY records, or AUDIT_CHECKPOINT_MS)
    deps.scheduler.every(CHECKPOINT_JOB, Math.min(1000, ctx.cfg.AUDIT_CHECKPOINT_MS), () =>
      scheduledCheckpoint(ctx),
    );
    deps.scheduler.every(VERIFY_JOB, ctx.cfg.AUDIT_VERIFY_MS, () => scheduledVerification(ctx));
  },
  consumers: (deps) => {
    const ctx = made.get(deps);
    if (!ctx) throw new Error('audit: consumers asked for before setup');
    return auditConsumers(ctx);
  },
};

/** One context per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, AuditContext>();
async function contextOf(deps: ServiceDeps): Promise<AuditContext> {
  const cfg = auditConfig(deps.env);
  const ctx: AuditContext = {
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    scheduler: deps.scheduler,
    cfg,
    key: await loadSigningKey(cfg.AUDIT_SIGNING_KEY, cfg.keyFile),
    metrics: auditMetrics(deps.metrics.registry),
    checkpoints: { lastAt: deps.clock.now().getTime() },
  };
  const newest = await latestCheckpoint(ctx);
  if (newest?.signatureValid) ctx.checkpoints.lastAt = Date.parse(newest.checkpoint.at);
  made.set(deps, ctx);
  return ctx;
}
