import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { loadConfig, secret } from '@hms/platform';

/** The Audit service's own configuration keys (STYLE.md §9). */
export const AuditConfig = Type.Object({
  AUDIT_SIGNING_KEY: Type.Optional(
    secret({
      description:
        'the ES256 private key that signs checkpoints, PEM (PKCS#8); usually AUDIT_SIGNING_KEY_FILE. Unset: one is generated once under HMS_DATA_DIR/audit',
    }),
  ),
  HMS_DATA_DIR: Type.String({
    default: './.data',
    description:
      'embedded data; the generated signing key and the default checkpoint directory live under audit/',
  }),
  AUDIT_CHECKPOINT_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'where signed checkpoints are exported, one file per checkpoint (default HMS_DATA_DIR/audit/checkpoints); put it outside the database’s reach (another volume, WORM storage)',
    }),
  ),
  AUDIT_CHECKPOINT_EVERY: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'a checkpoint is signed once this many records were appended since the last one',
  }),
  AUDIT_CHECKPOINT_MS: Type.Integer({
    minimum: 50,
    default: 300_000,
    description: 'and at least this often while records are appended, ms',
  }),
  AUDIT_VERIFY_MS: Type.Integer({
    minimum: 50,
    default: 3_600_000,
    description:
      'how often the whole chain is verified against the latest checkpoint (metrics, error log on a break), ms',
  }),
});
export type AuditConfig = Static<typeof AuditConfig> & { checkpointDir: string; keyFile: string };

export function auditConfig(env: NodeJS.ProcessEnv): AuditConfig {
  const cfg = loadConfig(AuditConfig, env);
  const own = join(cfg.HMS_DATA_DIR, 'audit');
  return {
    ...cfg,
    checkpointDir: cfg.AUDIT_CHECKPOINT_DIR ?? join(own, 'checkpoints'),
    keyFile: join(own, 'signing-key.pem'),
  };
}
