import { readdirSync } from 'node:fs';
import type { AuditRecord } from '@hms/contracts';
import type { Page } from '@hms/testkit';
import { expectAccessMatrix, expectErrorCatalogue, useService } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditService } from '../src/service.js';
import { AUDIT, auditEnv, checkpointDirOf, publishSamples, waitForRecords } from './helpers.js';

const env = auditEnv();
const audit = useService(auditService, { env });
let record: AuditRecord;

beforeAll(async () => {
  await publishSamples(audit().bus, 2, 'patient.updated.v1');
  await waitForRecords(audit().db, 2);
  const token = await audit().keys.mint({ roles: ['auditor'] });
  const res = await audit().request<Page<AuditRecord>>('GET', `${AUDIT}/events?limit=1`, { token });
  record = res.body.items[0] as AuditRecord;
});

const files = () => {
  try {
    return readdirSync(checkpointDirOf(env)).length;
  } catch {
    return 0;
  }
};

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(audit(), {
      params: { id: record.id },
      // a refused request signs no checkpoint (the trail itself grows: refusals are recorded)
      untouched: async () => files(),
    });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${AUDIT}/events`,
        `GET ${AUDIT}/events/:id`,
        `GET ${AUDIT}/patients/:id/accesses`,
        `GET ${AUDIT}/verify`,
        `GET ${AUDIT}/checkpoints`,
        `POST ${AUDIT}/checkpoints`,
      ].sort(),
    );
  });

  it('reads the trail for auditors and admins only, and signs checkpoints for admins only', async () => {
    for (const role of ['physician', 'nurse', 'receptionist', 'pharmacist', 'billing', 'manager']) {
      const token = await audit().keys.mint({ roles: [role] });
      expect((await audit().request('GET', `${AUDIT}/events`, { token })).status, role).toBe(403);
      expect((await audit().request('GET', `${AUDIT}/verify`, { token })).status, role).toBe(403);
    }
    const auditor = await audit().keys.mint({ roles: ['auditor'] });
    expect((await audit().request('GET', `${AUDIT}/verify`, { token: auditor })).status).toBe(200);
    expect((await audit().request('POST', `${AUDIT}/checkpoints`, { token: auditor })).status).toBe(403);
    const admin = await audit().keys.mint({ roles: ['admin'] });
    // 201, or 200 when the newest checkpoint (the matrix's own request) already signs the head
    expect([200, 201]).toContain(
      (await audit().request('POST', `${AUDIT}/checkpoints`, { token: admin })).status,
    );
  });

  it('publishes the checkpoint key to anyone', async () => {
    const res = await audit().request<{ keys: unknown[] }>('GET', `${AUDIT}/checkpoints/key`);
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(audit(), new URL('../src/', import.meta.url));
    expect(used.sort()).toEqual(['checkpoint_not_found', 'record_not_found', 'trail_empty']);
  });
});
