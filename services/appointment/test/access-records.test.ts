import { assertValidEvent, type AccessRecord, type Appointment, type EventEnvelope } from '@hms/contracts';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, createType, onboard, register, useWorld } from './helpers.js';

/**
 * Access records (issue #5): an appointment names its patient, so every answer about one is an
 * access to that patient's record. The kit emits the records in batches as `access.recorded.v1`
 * on the bus the three services share; this file listens there as the audit service would.
 */
const world = useWorld();

const envelopes: EventEnvelope[] = [];
const records = () =>
  envelopes
    .flatMap((e) => (e.data as { records: AccessRecord[] }).records)
    .filter((r) => r.service === 'appointment');

const sub = '0190d6f2-5b1c-7c3e-9a4b-00000000abcd';
let token: string;
let staffId: string;
let type: string;
beforeAll(async () => {
  await world().appointment.bus.subscribe({
    consumer: 'audit-probe',
    types: ['access.recorded.v1'],
    handler: async (envelope) => void envelopes.push(envelope),
  });
  token = await world().appointment.keys.mint({ roles: ['receptionist'], sub });
  staffId = (await onboard(world())).id;
  type = (await createType(world())).code;
});

const call = <T = Appointment>(method: string, path: string, body?: unknown) =>
  world().appointment.request<T>(method, path, { token, ...(body === undefined ? {} : { body }) });

/** The one record of the request that answered `requestId`, once it has been emitted. */
async function recordOf(requestId: string | null): Promise<AccessRecord> {
  expect(requestId).toBeTruthy();
  await expect
    .poll(() => records().filter((r) => r.requestId === requestId).length, { timeout: 10_000 })
    .toBe(1);
  return records().find((r) => r.requestId === requestId) as AccessRecord;
}

describe('what an answer about appointments reports', () => {
  test('a booking refused as a double booking still names the patient it was for', async () => {
    const [p1, p2] = [(await register(world())).id, (await register(world())).id];
    const first = await call('POST', APPOINTMENTS, {
      patientId: p1,
      staffId,
      type,
      start: '2027-03-08T10:00:00Z',
    });
    expect(first.status).toBe(201);
    const refused = await call('POST', APPOINTMENTS, {
      patientId: p2,
      staffId,
      type,
      start: '2027-03-08T10:00:00Z',
    });
    expect(refused.status).toBe(409);
    expect(await recordOf(refused.headers.get('x-request-id'))).toMatchObject({
      action: 'create',
      resource: { type: 'appointment', ids: [] },
      patientIds: [p2],
      status: 409,
    });
  });

  test('a booking, a read, a reschedule, a cancel: each names the appointment and its patient', async () => {
    const p = (await register(world())).id;
    const created = await call('POST', APPOINTMENTS, {
      patientId: p,
      staffId,
      type,
      start: '2027-03-01T10:00:00Z',
      reason: 'palpitations at night',
    });
    expect(created.status).toBe(201);
    const a = created.body;
    expect(await recordOf(created.headers.get('x-request-id'))).toMatchObject({
      service: 'appointment',
      actor: { kind: 'user', id: sub },
      action: 'create',
      method: 'POST',
      route: APPOINTMENTS,
      resource: { type: 'appointment', ids: [a.id] },
      patientIds: [p],
      status: 201,
    });

    const read = await call('GET', `${APPOINTMENTS}/${a.id}`);
    expect(read.status).toBe(200);
    expect(await recordOf(read.headers.get('x-request-id'))).toMatchObject({
      action: 'read',
      method: 'GET',
      route: `${APPOINTMENTS}/:id`,
      resource: { type: 'appointment', ids: [a.id] },
      patientIds: [p],
      status: 200,
    });

    const moved = await call('POST', `${APPOINTMENTS}/${a.id}/reschedule`, { start: '2027-03-01T11:00:00Z' });
    expect(moved.status).toBe(200);
    expect(await recordOf(moved.headers.get('x-request-id'))).toMatchObject({
      action: 'update',
      route: `${APPOINTMENTS}/:id/reschedule`,
      resource: { type: 'appointment', ids: [a.id] },
      patientIds: [p],
      status: 200,
    });

    const cancelled = await call('DELETE', `${APPOINTMENTS}/${a.id}`);
    expect(cancelled.status).toBe(204);
    expect(await recordOf(cancelled.headers.get('x-request-id'))).toMatchObject({
      action: 'delete',
      route: `${APPOINTMENTS}/:id`,
      resource: { type: 'appointment', ids: [a.id] },
      patientIds: [p],
      status: 204,
    });

    // ids only: the reason given never leaves in a record
    expect(JSON.stringify(envelopes)).not.toContain('palpitations');
    for (const e of envelopes) assertValidEvent(e);
  });

  test('a list reports every appointment it answered and each of their patients once', async () => {
    const [p1, p2] = [(await register(world())).id, (await register(world())).id];
    const own = (await onboard(world())).id;
    const ids: string[] = [];
    for (const [patientId, start] of [
      [p1, '2027-03-08T10:00:00Z'],
      [p2, '2027-03-08T11:00:00Z'],
      [p1, '2027-03-08T12:00:00Z'],
    ] as const) {
      const res = await call('POST', APPOINTMENTS, { patientId, staffId: own, type, start });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const list = await call<{ items: Appointment[] }>('GET', `${APPOINTMENTS}?staffId=${own}`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((x) => x.id)).toEqual(ids);
    const record = await recordOf(list.headers.get('x-request-id'));
    expect(record).toMatchObject({
      action: 'search',
      method: 'GET',
      route: APPOINTMENTS,
      resource: { type: 'appointment', ids },
      status: 200,
    });
    expect([...record.patientIds].sort()).toEqual([p1, p2].sort());
    // the query string (which patient or staff member was asked for) is not recorded
    expect(JSON.stringify(record)).not.toContain('staffId=');
  });

  test('a series reports each occurrence, and its patient once', async () => {
    const p = (await register(world())).id;
    const res = await call<{ seriesId: string; appointments: Appointment[] }>('POST', APPOINTMENTS, {
      patientId: p,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 3 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await recordOf(res.headers.get('x-request-id'))).toMatchObject({
      action: 'create',
      resource: { type: 'appointment', ids: res.body.appointments.map((x) => x.id) },
      patientIds: [p],
      status: 201,
    });
  });
});
