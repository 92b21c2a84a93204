import { randomUUID } from 'node:crypto';
import type { AccessRecord, AuditRecord, EventEnvelope } from '@hms/contracts';
import { buildEnvelope } from '@hms/platform';
import { expectProblem, expectValidationErrors, readAllPages, useService } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditService } from '../src/service.js';
import { AUDIT, auditEnv, waitForRecords } from './helpers.js';
import { sampleOf } from './samples.js';

/**
 * Reading the trail: filters, keyset paging, one record, a patient's accounting of accesses.
 * The trail is fed with access records and events built here, so every expected answer is known
 * by the test; answers are narrowed to what the test sent (reading the trail adds records too).
 */
const audit = useService(auditService, { env: auditEnv() });
const auditorId = randomUUID();
let auditor: string;

const [alice, bob] = [randomUUID(), randomUUID()];
const [p1, p2, p3] = [randomUUID(), randomUUID(), randomUUID()];

const access = (over: Partial<AccessRecord> & Pick<AccessRecord, 'at' | 'status'>): AccessRecord => ({
  service: 'patient',
  requestId: randomUUID(),
  actor: { kind: 'user', id: alice },
  action: 'read',
  method: 'GET',
  route: '/api/v1/patients/:id',
  resource: { type: 'patient', ids: [p1] },
  patientIds: [p1],
  ...over,
});

// alice reads p1 twice, searches (p1, p2), bob is refused on p3 and fails on p2
const records = [
  access({ at: '2025-03-01T08:00:00.000Z', status: 200 }),
  access({ at: '2025-03-01T09:00:00.000Z', status: 200 }),
  access({
    at: '2025-03-01T10:00:00.000Z',
    status: 200,
    action: 'search',
    route: '/api/v1/patients',
    resource: { type: 'patient', ids: [p1, p2] },
    patientIds: [p1, p2],
  }),
  access({
    at: '2025-03-01T11:00:00.000Z',
    status: 403,
    actor: { kind: 'user', id: bob },
    resource: { type: 'patient', ids: [p3] },
    patientIds: [p3],
  }),
  access({
    at: '2025-03-01T12:00:00.000Z',
    status: 500,
    actor: { kind: 'user', id: bob },
    resource: { type: 'patient', ids: [p2] },
    patientIds: [p2],
  }),
];
let batch: EventEnvelope;
let update: EventEnvelope;
const sent = new Set<string>();

beforeAll(async () => {
  auditor = await audit().keys.mint({ roles: ['auditor'], sub: auditorId });
  batch = buildEnvelope('patient', { type: 'access.recorded.v1', subject: 'patient', data: { records } });
  const sample = sampleOf('patient.updated.v1') as { data: { patient: { id: string } } };
  const patient = { ...sample.data.patient, id: p1 };
  update = buildEnvelope('patient', {
    type: 'patient.updated.v1',
    subject: p1,
    data: { patient, changedFields: ['phone', 'email'] },
  } as never);
  // one after the other: events of different subjects are consumed in parallel, in no promised
  // order (a CI run recorded the update first), and the test expects the update newest
  await audit().bus.publish([batch]);
  sent.add(batch.id);
  await waitForRecords(audit().db, 5);
  await audit().bus.publish([update]);
  sent.add(update.id);
  await waitForRecords(audit().db, 6);
});

/** Every page of a search, narrowed to the records of what this test sent, as [item, type]. */
async function search(params: Record<string, string | number | undefined>): Promise<AuditRecord[]> {
  const { items } = await readAllPages<AuditRecord>(audit(), `${AUDIT}/events`, auditor, {
    limit: 2,
    ...params,
  });
  return items.filter((r) => sent.has(r.eventId));
}
const items = (rs: AuditRecord[]) => rs.map((r) => (r.category === 'access' ? r.item : r.type));

describe('searching the trail', () => {
  it('answers newest first, page by page, each record with its seq and links', async () => {
    const all = await search({});
    expect(items(all)).toEqual(['patient.updated.v1', 4, 3, 2, 1, 0]);
    const seqs = all.map((r) => r.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect(all[0]).toMatchObject({
      category: 'event',
      subject: p1,
      patientIds: [p1],
      changedFields: ['phone', 'email'],
      resource: { type: 'patient', ids: [p1] },
      source: '/hms/patient',
    });
    expect(all[0]?.dataDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(all)).not.toContain('Fanout'); // the patient's name was in the event, not in the trail
  });

  it('filters by actor, patient, resource, type, action, outcome and time', async () => {
    expect(items(await search({ actor: alice }))).toEqual([2, 1, 0]);
    expect(items(await search({ actor: bob }))).toEqual([4, 3]);
    expect(items(await search({ patient: p1 }))).toEqual(['patient.updated.v1', 2, 1, 0]);
    expect(items(await search({ patient: p2 }))).toEqual([4, 2]);
    expect(items(await search({ resource: p3 }))).toEqual([3]);
    expect(items(await search({ type: 'patient.updated.v1' }))).toEqual(['patient.updated.v1']);
    expect(items(await search({ action: 'search' }))).toEqual([2]);
    expect(items(await search({ outcome: 'refused' }))).toEqual([3]);
    expect(items(await search({ outcome: 'failed' }))).toEqual([4]);
    expect(
      items(
        await search({
          outcome: 'granted',
          actor: alice,
          from: '2025-03-01T09:00:00Z',
          to: '2025-03-01T10:00:00Z',
        }),
      ),
    ).toEqual([1]);
  });

  it('answers one record by id, and 404 for an unknown one', async () => {
    const [newest] = await search({ type: 'patient.updated.v1' });
    const res = await audit().request<AuditRecord>('GET', `${AUDIT}/events/${newest?.id ?? ''}`, {
      token: auditor,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(newest);
    expect(
      expectProblem(await audit().request('GET', `${AUDIT}/events/${randomUUID()}`, { token: auditor }), 404)
        .code,
    ).toBe('record_not_found');
  });

  it('refuses bad filters, naming each', async () => {
    const bad = await audit().request('GET', `${AUDIT}/events?outcome=maybe&patient=nope&from=yesterday`, {
      token: auditor,
    });
    const paths = expectValidationErrors(bad)
      .map((e) => e.path)
      .sort();
    expect(paths).toEqual(
      expect.arrayContaining(['/querystring/outcome', '/querystring/patient', '/querystring/from']),
    );
    const backwards = await audit().request(
      'GET',
      `${AUDIT}/events?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z`,
      { token: auditor },
    );
    expect(expectValidationErrors(backwards).map((e) => e.path)).toEqual(['/querystring/to']);
    const cursor = await audit().request('GET', `${AUDIT}/events?cursor=bm9wZQ`, { token: auditor });
    expect(expectValidationErrors(cursor).map((e) => e.path)).toEqual(['/querystring/cursor']);
    expectProblem(await audit().request('GET', `${AUDIT}/events/not-a-uuid`, { token: auditor }), 400);
  });
});

describe("a patient's accounting of accesses", () => {
  it('lists who accessed the patient, when and with what outcome, newest first', async () => {
    const { items: rows } = await readAllPages<AuditRecord>(
      audit(),
      `${AUDIT}/patients/${p2}/accesses`,
      auditor,
      { limit: 1 },
    );
    const mine = rows.filter((r) => sent.has(r.eventId));
    expect(mine.map((r) => [r.actor?.id, r.at, r.action, r.outcome])).toEqual([
      [bob, '2025-03-01T12:00:00.000Z', 'read', 'failed'],
      [alice, '2025-03-01T10:00:00.000Z', 'search', 'granted'],
    ]);
    expect(rows.every((r) => r.category === 'access')).toBe(true);
  });
});

describe('reading the trail is itself recorded', () => {
  it('an access record names the auditor, the route and the patients the answer named', async () => {
    await search({ patient: p3 });
    await expect
      .poll(
        async () => {
          const { items: mine } = await readAllPages<AuditRecord>(audit(), `${AUDIT}/events`, auditor, {
            actor: auditorId,
          });
          return mine.some(
            (r) => r.route === `${AUDIT}/events` && r.patientIds.includes(p3) && r.outcome === 'granted',
          );
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
  });
});
