import type { EventEnvelope, Patient } from '@hms/contracts';
import { patientService } from '@hms/patient';
import { IdParams, type LocalCopy, type ServiceModule } from '@hms/platform';
import { createTestBus, createTestKeys, startService, type RunningService, type TestBus } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The kit's local copy (issue #10): a consumer keeps a copy of the patients it needs, fed by the
 * Patient service's events; an entry it lacks is read through to Patient with the consumer's own
 * service token; when Patient cannot answer, 503 with Retry-After, never an empty answer.
 */
interface Kept {
  status: Patient['status'];
}

let copy: LocalCopy<Kept> | undefined;
const applied: string[] = [];

/** A service that keeps each patient's status (appointment booking needs as much). */
const copier: ServiceModule = {
  name: 'appointment',
  description: 'keeps a copy of patient statuses',
  migrations: () => [],
  setup(app, deps) {
    copy = deps.localCopy<Kept>({
      kind: 'patient',
      owner: 'patient',
      path: (id) => `/api/v1/patients/${id}`,
      fromOwner: (body) => {
        const p = body as Partial<Patient>;
        return typeof p.version === 'number' && typeof p.status === 'string'
          ? { version: p.version, data: { status: p.status } }
          : undefined;
      },
    });
    app.get(
      '/api/v1/appointments/patient-status/:id',
      { config: { permission: 'appointments:read' }, schema: { params: IdParams } },
      async (request) => ({ status: (await copy?.get(request.params.id))?.status ?? null }),
    );
  },
  consumers: () => [
    {
      types: ['patient.registered.v1', 'patient.updated.v1'],
      async handle(tx, envelope: EventEnvelope) {
        const { patient } = envelope.data as { patient: Patient };
        await copy?.apply(tx, patient.id, { version: patient.version, data: { status: patient.status } });
        applied.push(patient.id);
      },
    },
  ],
};

let bus: TestBus;
let owner: RunningService;
let ownerUp = true;
let consumer: RunningService;
let writer: string;
let reader: string;

async function register(): Promise<Patient> {
  const res = await owner.request<Patient>('POST', '/api/v1/patients?confirmDuplicate=true', {
    token: writer,
    body: { givenName: 'Ada', familyName: `Copy${Date.now()}`, birthDate: '1980-02-03', sex: 'female' },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const statusOf = (id: string) =>
  consumer.request<{ status: string | null } & Record<string, unknown>>(
    'GET',
    `/api/v1/appointments/patient-status/${id}`,
    { token: reader },
  );

beforeAll(async () => {
  const keys = await createTestKeys();
  bus = await createTestBus();
  owner = await startService(patientService, { keys, bus: bus.bus });
  writer = await keys.mint({ roles: ['receptionist'] });
  reader = await keys.mint({ roles: ['nurse'] });
}, 120_000);
afterAll(async () => {
  await consumer.close();
  if (ownerUp) await owner.close();
  await bus.close();
});

describe('a local copy that is never silently empty', () => {
  let before: Patient;
  let later: Patient;

  it('answers an entry its copy lacks from the owner (read through with its service token), and keeps it', async () => {
    // registered before the consumer existed: its events never reached it
    before = await register();
    later = await register();
    consumer = await startService(copier, {
      keys: owner.keys,
      bus: bus.bus,
      env: { PATIENT_URL: owner.url },
    });
    expect(await copy?.cached(before.id)).toBeUndefined();
    const res = await statusOf(before.id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('active');
    expect(await copy?.cached(before.id)).toEqual({ version: before.version, data: { status: 'active' } });
    // an id the owner does not know is no entry (not an error, not a guess)
    expect((await statusOf('0190d6f2-5b1c-7c3e-9a4b-2f6d8e1a3c5b')).body.status).toBeNull();
  });

  it('is filled by a later event, at the newest version only', async () => {
    const res = await owner.request<Patient>('DELETE', `/api/v1/patients/${before.id}`, { token: writer });
    expect(res.status).toBe(204);
    await expect
      .poll(async () => (await copy?.cached(before.id))?.data.status, { timeout: 10_000 })
      .toBe('inactive');
    const kept = await copy?.cached(before.id);
    expect(kept?.version).toBe(before.version + 1);
    // an older version arriving late (out of order) does not move the entry back
    await consumer.db.transaction((tx) =>
      (copy as LocalCopy<Kept>).apply(tx, before.id, { version: before.version, data: { status: 'active' } }),
    );
    expect((await copy?.cached(before.id))?.data.status).toBe('inactive');
  });

  it('answers 503 with Retry-After, within the client timeout, when the owner is down and the copy lacks the entry', async () => {
    await owner.close();
    ownerUp = false;
    // what the copy holds still answers
    expect((await statusOf(before.id)).body.status).toBe('inactive');
    const started = Date.now();
    const res = await statusOf(later.id);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
