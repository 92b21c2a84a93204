import { rmSync } from 'node:fs';
import type { Checkpoint } from '@hms/contracts';
import { useService } from '@hms/testkit/vitest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashRecord } from '../src/domain/chain.js';
import { auditService } from '../src/service.js';
import { recordsAfter } from '../src/store.js';
import {
  AUDIT,
  asAttacker,
  auditEnv,
  breaksOf,
  checkpointDirOf,
  publishSamples,
  verify,
  waitForRecords,
} from './helpers.js';

/**
 * The tamper suite (issue #14): an attacker with the owner's rights on the audit database
 * disables the triggers and tampers; GET /audit/verify names each break. Every case starts from
 * a fresh trail of ten records made by the consumer from events on the bus.
 */
const env = auditEnv();
const audit = useService(auditService, { env });
let auditor: string;
let admin: string;

beforeAll(async () => {
  auditor = await audit().keys.mint({ roles: ['auditor'] });
  admin = await audit().keys.mint({ roles: ['admin'] });
});

beforeEach(async () => {
  await asAttacker(audit(), (db) => db.exec('TRUNCATE audit_records'));
  rmSync(checkpointDirOf(env), { recursive: true, force: true });
  await publishSamples(audit().bus, 10);
  await waitForRecords(audit().db, 10);
});

async function checkpoint(): Promise<Checkpoint> {
  const res = await audit().request<Checkpoint>('POST', `${AUDIT}/checkpoints`, { token: admin });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('every tampering is detected and named by /audit/verify', () => {
  it('an untouched trail verifies', async () => {
    await checkpoint();
    const report = await verify(audit(), auditor);
    expect(report).toMatchObject({ intact: true, breakCount: 0, breaks: [], checked: 10, to: 10 });
    expect(report.checkpoint).toMatchObject({ seq: 10, signatureValid: true });
  });

  it('an altered field', async () => {
    await asAttacker(audit(), (db) =>
      db.query(`UPDATE audit_records SET actor_id = 'someone-else' WHERE seq = 4`),
    );
    const report = await verify(audit(), auditor);
    expect(breaksOf(report)).toEqual([{ kind: 'altered', seq: 4 }]);
    expect(report.intact).toBe(false);
  });

  it('an inserted row (the rows after it renumbered)', async () => {
    await asAttacker(audit(), async (db) => {
      await db.query('UPDATE audit_records SET seq = seq + 1000000 WHERE seq > 5');
      await db.query('UPDATE audit_records SET seq = seq - 999999 WHERE seq > 1000000');
      await db.query(
        `INSERT INTO audit_records
         SELECT 6, gen_random_uuid(), recorded_at, category, type, gen_random_uuid(), item, source, subject, at,
           actor_kind, 'forged-actor', action, outcome, status, service, method, route, request_id, client_ip,
           resource_type, resource_ids, patient_ids, changed_fields, data_digest, prev_hash, repeat('ab', 32)
         FROM audit_records WHERE seq = 5`,
      );
    });
    expect(breaksOf(await verify(audit(), auditor))).toEqual([{ kind: 'inserted', seq: 6 }]);
  });

  it('two rows swapped', async () => {
    await asAttacker(audit(), async (db) => {
      await db.query('UPDATE audit_records SET seq = 1000000 WHERE seq = 5');
      await db.query('UPDATE audit_records SET seq = 5 WHERE seq = 6');
      await db.query('UPDATE audit_records SET seq = 6 WHERE seq = 1000000');
    });
    expect(breaksOf(await verify(audit(), auditor))).toEqual([{ kind: 'reordered', seq: 5, toSeq: 6 }]);
  });

  it('an interior row deleted', async () => {
    await asAttacker(audit(), (db) => db.query('DELETE FROM audit_records WHERE seq = 4'));
    expect(breaksOf(await verify(audit(), auditor))).toEqual([{ kind: 'missing', seq: 4 }]);
  });

  it('the last rows deleted: detected against the latest exported checkpoint', async () => {
    await checkpoint();
    await asAttacker(audit(), (db) => db.query('DELETE FROM audit_records WHERE seq > 7'));
    const report = await verify(audit(), auditor);
    expect(breaksOf(report)).toEqual([{ kind: 'truncated', seq: 8, toSeq: 10 }]);
    expect(report.checkpoint).toMatchObject({ seq: 10, signatureValid: true });
  });

  it('the table emptied: detected from the exported checkpoint file', async () => {
    await checkpoint();
    await asAttacker(audit(), (db) => db.exec('TRUNCATE audit_records'));
    const report = await verify(audit(), auditor);
    expect(breaksOf(report)).toEqual([{ kind: 'truncated', seq: 1, toSeq: 10 }]);
    expect(report).toMatchObject({ checked: 0, to: null, intact: false });
  });

  it('a deleted row with the chain relinked around it', async () => {
    await checkpoint();
    await asAttacker(audit(), async (db) => {
      await db.query('DELETE FROM audit_records WHERE seq = 4');
      // recompute the chain from the gap on, as the service would have
      const rows = await recordsAfter(db, 0, undefined, 100);
      let prev = rows.find((r) => r.seq === 3)?.hash as string;
      for (const r of rows.filter((row) => row.seq > 4)) {
        const hash = hashRecord({ ...r, prevHash: prev });
        await db.query('UPDATE audit_records SET prev_hash = $1, hash = $2 WHERE seq = $3', [
          prev,
          hash,
          r.seq,
        ]);
        prev = hash;
      }
    });
    expect(breaksOf(await verify(audit(), auditor))).toEqual([
      { kind: 'relinked', seq: 4 },
      { kind: 'rewritten', seq: 10 },
    ]);
  });

  it('several tamperings at once: every one of them, not only the first', async () => {
    await checkpoint();
    await asAttacker(audit(), async (db) => {
      await db.query(`UPDATE audit_records SET subject = 'x' WHERE seq = 2`);
      await db.query('DELETE FROM audit_records WHERE seq IN (5, 6)');
      await db.query('DELETE FROM audit_records WHERE seq > 8');
    });
    expect(breaksOf(await verify(audit(), auditor))).toEqual([
      { kind: 'altered', seq: 2 },
      { kind: 'missing', seq: 5, toSeq: 6 },
      { kind: 'truncated', seq: 9, toSeq: 10 },
    ]);
  });

  it('a range and an older checkpoint can be asked for', async () => {
    const first = await checkpoint();
    await publishSamples(audit().bus, 5);
    await waitForRecords(audit().db, 15);
    await checkpoint();
    await asAttacker(audit(), (db) => db.query('DELETE FROM audit_records WHERE seq = 12'));
    expect(breaksOf(await verify(audit(), auditor, '?from=1&to=10'))).toEqual([]);
    expect(breaksOf(await verify(audit(), auditor, '?from=11'))).toEqual([{ kind: 'missing', seq: 12 }]);
    const older = await verify(audit(), auditor, `?checkpoint=${first.seq}`);
    expect(older.checkpoint?.seq).toBe(10);
    expect(breaksOf(older)).toEqual([{ kind: 'missing', seq: 12 }]);
  });
});

describe('the trail refuses changes in the database itself', () => {
  it('refuses UPDATE, DELETE and TRUNCATE from the owner, even as a replica session', async () => {
    const db = audit().db;
    await expect(db.query(`UPDATE audit_records SET subject = 'x' WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM audit_records WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(db.exec('TRUNCATE audit_records')).rejects.toThrow(/append-only/);
    await expect(
      db.transaction(async (tx) => {
        await tx.exec('SET LOCAL session_replication_role = replica');
        await tx.query('DELETE FROM audit_records');
      }),
    ).rejects.toThrow(/append-only/);
    expect(breaksOf(await verify(audit(), auditor))).toEqual([]);
    expect((await verify(audit(), auditor)).checked).toBe(10);
  });
});
