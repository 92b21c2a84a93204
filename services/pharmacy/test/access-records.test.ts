import { type AccessRecord, type EventEnvelope, type Medication } from '@hms/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESCRIPTIONS, addMedication, amoxicillin, item, register, useWorld } from './helpers.js';

/**
 * Access records (issue #5): a prescription names its patient, so every answer about one is an
 * access to that patient's record, the refused ones too. This file listens on the shared bus as
 * the audit service would.
 */
const world = useWorld();
const envelopes: EventEnvelope[] = [];
const records = () =>
  envelopes
    .flatMap((e) => (e.data as { records: AccessRecord[] }).records)
    .filter((r) => r.service === 'pharmacy');

let token: string;
let med: Medication;
beforeAll(async () => {
  await world().pharmacy.bus.subscribe({
    consumer: 'audit-probe',
    types: ['access.recorded.v1'],
    handler: async (envelope) => void envelopes.push(envelope),
  });
  token = world().tokens.physician;
  med = await addMedication(world(), amoxicillin());
});

async function recordOf(requestId: string | null): Promise<AccessRecord> {
  expect(requestId).toBeTruthy();
  await expect
    .poll(() => records().filter((r) => r.requestId === requestId).length, { timeout: 10_000 })
    .toBe(1);
  return records().find((r) => r.requestId === requestId) as AccessRecord;
}

describe('what an answer about prescriptions reports', () => {
  it('a prescription, refused for an allergy, still names its patient; written, read, listed and cancelled ones name theirs', async () => {
    const w = world();
    const allergic = (await register(w, { allergies: [{ substance: 'penicillin', severity: 'severe' }] })).id;
    const refused = await w.pharmacy.request('POST', PRESCRIPTIONS, {
      token,
      body: { patientId: allergic, items: [item(med.id)] },
    });
    expect(refused.status).toBe(409);
    expect(await recordOf(refused.headers.get('x-request-id'))).toMatchObject({
      action: 'create',
      resource: { type: 'prescription', ids: [] },
      patientIds: [allergic],
      status: 409,
    });

    const p = (await register(w)).id;
    const created = await w.pharmacy.request<{ id: string }>('POST', PRESCRIPTIONS, {
      token,
      body: { patientId: p, items: [item(med.id)] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(await recordOf(created.headers.get('x-request-id'))).toMatchObject({
      action: 'create',
      route: PRESCRIPTIONS,
      resource: { type: 'prescription', ids: [id] },
      patientIds: [p],
      status: 201,
    });

    const read = await w.pharmacy.request('GET', `${PRESCRIPTIONS}/${id}`, { token });
    expect(await recordOf(read.headers.get('x-request-id'))).toMatchObject({
      action: 'read',
      resource: { type: 'prescription', ids: [id] },
      patientIds: [p],
    });

    const listed = await w.pharmacy.request('GET', `${PRESCRIPTIONS}?patientId=${p}`, { token });
    expect(await recordOf(listed.headers.get('x-request-id'))).toMatchObject({
      action: 'search',
      resource: { type: 'prescription', ids: [id] },
      patientIds: [p],
    });

    const cancelled = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${id}/cancel`, {
      token,
      body: { reason: 'wrong dose' },
    });
    expect(await recordOf(cancelled.headers.get('x-request-id'))).toMatchObject({
      action: 'update',
      resource: { type: 'prescription', ids: [id] },
      patientIds: [p],
      status: 200,
    });
  });
});
