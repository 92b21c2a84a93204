import type { AccessRecord, EventEnvelope, Patient } from '@hms/contracts';
import { createTestBus, startService, testBrokerUrl, type RunningService, type TestBus } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientService } from '../src/service.js';

/**
 * Access records (issue #10): every answer of a Patient route is a record of who touched which
 * patients, emitted by the kit off the request path in batches (`access.recorded.v1`), on both
 * buses. The records carry ids, routes and statuses: no name, birth date or query string.
 */
const kinds = testBrokerUrl() ? (['in-process', 'rabbitmq'] as const) : (['in-process'] as const);

describe.each(kinds)('access records on the %s bus', (kind) => {
  let bus: TestBus;
  let svc: RunningService;
  const envelopes: EventEnvelope[] = [];
  const records = () => envelopes.flatMap((e) => (e.data as { records: AccessRecord[] }).records);

  beforeAll(async () => {
    bus = await createTestBus({ kind });
    await bus.bus.subscribe({
      consumer: 'audit-probe',
      types: ['access.recorded.v1'],
      handler: async (envelope) => void envelopes.push(envelope),
    });
    svc = await startService(patientService, { bus: bus.bus });
  }, 120_000);
  afterAll(async () => {
    await svc.close();
    await bus.close();
  });

  it('records a read, a search and a refusal with the patient ids, batched, and no patient data', async () => {
    const sub = '0190d6f2-5b1c-7c3e-9a4b-00000000aaaa';
    const writer = await svc.keys.mint({ roles: ['receptionist'], sub });
    const family = `Lovelace${Date.now().toString(36)}`;
    const register = async (givenName: string) => {
      const res = await svc.request<Patient>('POST', '/api/v1/patients?confirmDuplicate=true', {
        token: writer,
        body: { givenName, familyName: family, birthDate: '1915-12-10', sex: 'female' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    const ada = await register('Ada');
    const byron = await register('Byron');
    expect((await svc.request('GET', `/api/v1/patients/${ada.id}`, { token: writer })).status).toBe(200);
    const search = await svc.request<{ items: Patient[] }>('GET', `/api/v1/patients/search?name=${family}`, {
      token: writer,
    });
    expect(search.body.items.map((p) => p.id).sort()).toEqual([ada.id, byron.id].sort());
    const auditor = await svc.keys.mint({ roles: ['auditor'] });
    expect((await svc.request('GET', `/api/v1/patients/${byron.id}`, { token: auditor })).status).toBe(403);

    await expect.poll(() => records().filter((r) => r.status === 403).length, { timeout: 10_000 }).toBe(1);
    const mine = records().filter((r) => r.requestId && r.service === 'patient');
    const created = mine.filter((r) => r.action === 'create');
    expect(created.map((r) => r.patientIds[0]).sort()).toEqual([ada.id, byron.id].sort());
    expect(mine).toContainEqual(
      expect.objectContaining({
        action: 'read',
        method: 'GET',
        route: '/api/v1/patients/:id',
        resource: { type: 'patient', ids: [ada.id] },
        patientIds: [ada.id],
        status: 200,
        actor: { kind: 'user', id: sub },
      }),
    );
    const searched = mine.find((r) => r.action === 'search');
    expect(searched?.route).toBe('/api/v1/patients/search');
    expect([...(searched?.patientIds ?? [])].sort()).toEqual([ada.id, byron.id].sort());
    expect(mine).toContainEqual(
      expect.objectContaining({
        action: 'read',
        status: 403,
        patientIds: [byron.id],
        actor: expect.objectContaining({ kind: 'user' }) as unknown,
      }),
    );
    // batched: five requests within the flush interval make fewer events than records
    expect(envelopes.length).toBeLessThan(mine.length);
    // no patient data and no query string anywhere in what was emitted
    const text = JSON.stringify(envelopes);
    for (const phi of ['Ada', 'Byron', family, '1915-12-10', 'name=']) expect(text).not.toContain(phi);
  });
});
