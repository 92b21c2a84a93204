import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventType, VerificationReport } from '@hms/contracts';
import { buildEnvelope, type EventBus, type Queryable } from '@hms/platform';
import type { RunningService } from '@hms/testkit';
import { expect } from 'vitest';
import { sampleOf } from './samples.js';

export const AUDIT = '/api/v1/audit';

/**
 * The Audit service's configuration for a test: its data (generated key, checkpoint files) in a
 * fresh temporary directory, and the scheduled jobs far apart, so a test decides when a
 * checkpoint is taken (pass overrides to shorten them).
 */
export function auditEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv & { HMS_DATA_DIR: string } {
  return {
    HMS_DATA_DIR: mkdtempSync(join(tmpdir(), 'hms-audit-')),
    AUDIT_CHECKPOINT_MS: '3600000',
    AUDIT_VERIFY_MS: '3600000',
    AUDIT_CHECKPOINT_EVERY: '1000000000',
    ...overrides,
  };
}

export const checkpointDirOf = (env: { HMS_DATA_DIR: string }) =>
  join(env.HMS_DATA_DIR, 'audit', 'checkpoints');

/** Publishes `n` events of `type` (a valid sample each) as their producers would. */
export async function publishSamples(bus: EventBus, n: number, type: EventType = 'auth.session-revoked.v1') {
  const envelopes = Array.from({ length: n }, () =>
    buildEnvelope('test', { type, ...sampleOf(type) } as never),
  );
  await bus.publish(envelopes);
  return envelopes;
}

/** Records in the trail (a wait condition only: expected values come from the test). */
export async function recordCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_records');
  return rows[0]?.n ?? 0;
}

/** Waits until the trail holds `n` records (in a test or a hook); fails after 20 s. */
export async function waitForRecords(db: Queryable, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let count = await recordCount(db);
  while (count !== n && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = await recordCount(db);
  }
  expect(count, 'records in the trail').toBe(n);
}

/**
 * What an attacker with the owner's rights does: disables the table's triggers, tampers, and
 * puts them back as they were (ENABLE ALWAYS), in one transaction of their own.
 */
export async function asAttacker(
  svc: RunningService,
  tamper: (db: Queryable) => Promise<unknown>,
): Promise<void> {
  await svc.db.transaction(async (tx) => {
    await tx.exec('ALTER TABLE audit_records DISABLE TRIGGER USER');
    await tamper(tx);
    await tx.exec(`ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_no_update_delete;
      ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_no_truncate`);
  });
}

export async function verify(svc: RunningService, token: string, query = ''): Promise<VerificationReport> {
  const res = await svc.request<VerificationReport>('GET', `${AUDIT}/verify${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A report's breaks as kind, seq and (for a run) the last seq. */
export const breaksOf = (report: VerificationReport) =>
  report.breaks.map(({ kind, seq, toSeq }) => (toSeq === undefined ? { kind, seq } : { kind, seq, toSeq }));
