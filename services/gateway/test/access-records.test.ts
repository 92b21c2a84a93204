import type { AccessRecord, EventEnvelope } from '@hms/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENTS, STARTUP_MS, startStack, type Stack } from './helpers.js';

/** Issue #10: the gateway records every request it refuses (401, 403, 429) as an access record. */
let s: Stack;
const envelopes: EventEnvelope[] = [];
const records = () => envelopes.flatMap((e) => (e.data as { records: AccessRecord[] }).records);

beforeAll(async () => {
  s = await startStack({ RATE_LIMIT_IP: '5/60' });
  await s.gateway.bus.subscribe({
    consumer: 'audit-probe',
    types: ['access.recorded.v1'],
    handler: async (envelope) => void envelopes.push(envelope),
  });
}, STARTUP_MS);
afterAll(async () => s.close());

describe('the gateway records the requests it refuses', () => {
  it('401 without a token, 403 without the permission, 429 over the budget: each a record naming the patient asked for', async () => {
    const id = '0190d6f2-5b1c-7c3e-9a4b-2f6d8e1a3c5b';
    const auditor = await s.keys.mint({ roles: ['auditor'], sub: '0190d6f2-5b1c-7c3e-9a4b-00000000beef' });
    expect((await s.gateway.request('GET', `${PATIENTS}/${id}`)).status).toBe(401);
    expect((await s.gateway.request('GET', `${PATIENTS}/${id}?x=Ada`, { token: auditor })).status).toBe(403);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.gateway.request('GET', `${PATIENTS}/${id}`)).status);
    expect(statuses).toContain(429);

    await expect
      .poll(() => records().filter((r) => r.status === 429).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const unauthenticated = records().find((r) => r.status === 401);
    expect(unauthenticated).toMatchObject({
      service: 'gateway',
      action: 'read',
      method: 'GET',
      route: `${PATIENTS}/${id}`,
      resource: { type: 'patient', ids: [] },
      patientIds: [id],
      actor: { kind: 'anonymous' },
    });
    expect(unauthenticated?.clientIp).toMatch(/127\.0\.0\.1/);
    const forbidden = records().find((r) => r.status === 403);
    // the query string stays out of the record
    expect(forbidden).toMatchObject({ route: `${PATIENTS}/${id}`, patientIds: [id] });
    expect(JSON.stringify(envelopes)).not.toContain('Ada');
    // the gateway records refusals only: what it passed on is the service's to record
    expect(records().every((r) => [401, 403, 429].includes(r.status))).toBe(true);
  });
});
