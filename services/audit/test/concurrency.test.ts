import { randomUUID } from 'node:crypto';
import { PostgresDb, type Db } from '@hms/platform';
import { useService } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendDrafts } from '../src/append.js';
import type { RecordDraft } from '../src/domain/chain.js';
import { auditService } from '../src/service.js';
import { auditEnv, breaksOf, publishSamples, verify, waitForRecords } from './helpers.js';

/**
 * Concurrent producers never fork the chain (issue #14): 50 producers, each in transactions of
 * its own on a connection of its own (as many replicas would), append small batches for a while
 * as the consumer appends the events it is sent; then the chain verifies with no break, every
 * record in it once. AUDIT_CONCURRENCY_MS sets how long they append (CI: 1.5 s).
 */
const PRODUCERS = 50;
const FOR_MS = Number(process.env.AUDIT_CONCURRENCY_MS) || 1500;

const audit = useService(auditService, { env: auditEnv() });
let pool: Db;

beforeAll(async () => {
  // a pool of its own, a connection per producer, on the service's database (PGlite: the one it has)
  const server = process.env.TEST_DATABASE_URL;
  if (server) {
    const { rows } = await audit().db.query<{ name: string }>('SELECT current_database() AS name');
    const url = new URL(server);
    url.pathname = `/${rows[0]?.name ?? ''}`;
    pool = new PostgresDb({ url: url.toString(), schema: 'audit', poolMax: PRODUCERS });
  } else {
    pool = audit().db;
  }
});
afterAll(async () => {
  if (pool !== audit().db) await pool.close();
});

const draft = (producer: number, n: number): RecordDraft => ({
  id: randomUUID(),
  recordedAt: new Date().toISOString(),
  category: 'access',
  type: 'access.recorded.v1',
  eventId: randomUUID(),
  item: 0,
  source: `/hms/producer-${producer}`,
  subject: 'load',
  at: new Date().toISOString(),
  actor: { kind: 'service', id: `svc:producer-${producer}` },
  action: 'read',
  outcome: 'granted',
  status: 200,
  resource: { type: 'patient', ids: [randomUUID()] },
  patientIds: [randomUUID()],
  changedFields: [],
  requestId: `${producer}-${n}`,
});

describe('50 concurrent producers', () => {
  it('append for a while, and the chain verifies with no break', async () => {
    const until = Date.now() + FOR_MS;
    const events = publishSamples(audit().bus, 200);
    const appended = await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, producer) => {
        let count = 0;
        while (Date.now() < until) {
          const size = 1 + (count % 3);
          await pool.transaction((tx) =>
            appendDrafts(
              tx,
              Array.from({ length: size }, (_x, i) => draft(producer, count + i)),
            ),
          );
          count += size;
        }
        return count;
      }),
    );
    await events;
    const total = appended.reduce((a, b) => a + b, 0) + 200;
    expect(appended.every((n) => n > 0)).toBe(true);
    await waitForRecords(audit().db, total);

    const auditor = await audit().keys.mint({ roles: ['auditor'] });
    const report = await verify(audit(), auditor);
    expect(breaksOf(report)).toEqual([]);
    expect(report).toMatchObject({ intact: true, checked: total, to: total });
  });
});
