import { Gauge, type Registry } from 'prom-client';

/** What the scheduled verification exports (DESIGN.md §6): alert on `audit_chain_breaks > 0`. */
export function auditMetrics(registry: Registry) {
  const registers = [registry];
  return {
    breaks: new Gauge({
      name: 'audit_chain_breaks',
      help: 'breaks the last scheduled verification of the audit chain found (0: intact)',
      registers,
    }),
    verifiedSeq: new Gauge({
      name: 'audit_chain_verified_seq',
      help: 'the last seq the last scheduled verification walked',
      registers,
    }),
    lastVerification: new Gauge({
      name: 'audit_chain_last_verification_seconds',
      help: 'when the last scheduled verification ended (Unix time, s)',
      registers,
    }),
    checkpointSeq: new Gauge({
      name: 'audit_checkpoint_seq',
      help: 'the seq of the newest signed checkpoint exported',
      registers,
    }),
  };
}

export type AuditMetrics = ReturnType<typeof auditMetrics>;
