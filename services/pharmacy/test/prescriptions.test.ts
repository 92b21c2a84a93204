import { assertValidEvent, type Medication, type Prescription } from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PRESCRIPTIONS,
  addMedication,
  counts,
  eventually,
  item,
  onboard,
  prescribe,
  prescribed,
  register,
  useWorld,
  type World,
} from './helpers.js';

const world = useWorld();
let w: World;
let med: Medication;
let other: Medication;
let patientId: string;

beforeAll(async () => {
  w = world();
  med = await addMedication(w);
  other = await addMedication(w);
  patientId = (await register(w)).id;
});

describe('prescribing', () => {
  it('a physician linked to a staff record prescribes as themselves; the prescription is stored, answered and published', async () => {
    const before = Date.now();
    const res = await prescribe(w, {
      patientId,
      items: [
        item(med.id, { refills: 2 }),
        item(other.id, { quantity: 10, dose: '2 tablets', frequency: 'at night' }),
      ],
      notes: ' take with food ',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const p = res.body;
    expect(p).toEqual({
      id: expect.any(String) as string,
      patientId,
      prescriberId: w.physician.id,
      items: [
        { ...item(med.id), refills: 2, refillsRemaining: 2, dispensed: 0, pending: 0 },
        {
          ...item(other.id, { quantity: 10, dose: '2 tablets', frequency: 'at night' }),
          refills: 0,
          refillsRemaining: 0,
          dispensed: 0,
          pending: 0,
        },
      ],
      notes: 'take with food',
      status: 'active',
      validUntil: expect.any(String) as string,
      allergyAlerts: [],
      fills: [],
      createdBy: expect.any(String) as string,
      version: 1,
      createdAt: expect.any(String) as string,
      updatedAt: p.createdAt,
    });
    // a year from now by default
    const year = Date.parse(p.validUntil) - Date.parse(p.createdAt);
    expect(year === 365 * 86_400_000 || year === 366 * 86_400_000).toBe(true);
    expect(Date.parse(p.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.headers.get('location')).toBe(`${PRESCRIPTIONS}/${p.id}`);

    const got = await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${p.id}`, {
      token: w.tokens.nurse,
    });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(p);

    const rows = await outboxRows(w.pharmacy.db, { type: 'prescription.created.v1', subject: p.id });
    expect(rows).toHaveLength(1);
    const event = rows[0]?.envelope;
    assertValidEvent(event);
    expect(event.data).toEqual({ prescription: p });
  });

  it('an admin linked to no staff record names the prescribing physician', async () => {
    const p = await prescribed(
      w,
      { patientId, prescriberId: w.physician.id, items: [item(med.id)] },
      w.tokens.admin,
    );
    expect(p.prescriberId).toBe(w.physician.id);
  });

  it('keeps the validUntil it is given', async () => {
    const validUntil = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const p = await prescribed(w, { patientId, items: [item(med.id)], validUntil });
    expect(p.validUntil).toBe(validUntil);
  });
});

describe('the prescriber rules', () => {
  let before: Record<string, number>;
  beforeEach(async () => {
    before = await counts(w.pharmacy);
  });
  const nothingWritten = async () => expect(await counts(w.pharmacy)).toEqual(before);

  it('refuses a linked physician prescribing as someone else (403), writing nothing', async () => {
    const colleague = await onboard(w);
    const res = await prescribe(w, { patientId, prescriberId: colleague.id, items: [item(med.id)] });
    expect(expectProblem(res, 403).code).toBe('prescriber_not_self');
    await nothingWritten();
  });

  it('asks a caller linked to no staff record for the prescriber (400)', async () => {
    const res = await prescribe(w, { patientId, items: [item(med.id)] }, w.tokens.admin);
    expect(expectValidationErrors(res)).toEqual([
      { path: '/body/prescriberId', message: expect.any(String) as string },
    ]);
    await nothingWritten();
  });

  it('refuses a prescriber who is a nurse, or an inactive physician (409)', async () => {
    const nurse = await onboard(w, { role: 'nurse' });
    const nurseRes = await prescribe(
      w,
      { patientId, prescriberId: nurse.id, items: [item(med.id)] },
      w.tokens.admin,
    );
    const p1 = expectProblem(nurseRes, 409);
    expect(p1.code).toBe('prescriber_not_eligible');
    expect(p1.detail).toContain('nurse');
    const retired = await onboard(w, { active: false });
    const retiredRes = await prescribe(
      w,
      { patientId, prescriberId: retired.id, items: [item(med.id)] },
      w.tokens.admin,
    );
    expect(expectProblem(retiredRes, 409).detail).toContain('not active');
    await nothingWritten();
  });

  it('refuses a user linked to a staff record that is not a physician (409)', async () => {
    const pharmacistStaff = await onboard(w, { role: 'pharmacist' });
    const token = await w.keys.mint({ roles: ['physician'], staffId: pharmacistStaff.id });
    const res = await prescribe(w, { patientId, items: [item(med.id)] }, token);
    expect(expectProblem(res, 409).code).toBe('prescriber_not_eligible');
    await nothingWritten();
  });

  it('refuses a nurse and a pharmacist, who may not write prescriptions (403)', async () => {
    for (const token of [w.tokens.nurse, w.tokens.pharmacist]) {
      const res = await prescribe(w, { patientId, items: [item(med.id)] }, token);
      expect(expectProblem(res, 403).detail).toContain('prescriptions:write');
    }
    await nothingWritten();
  });
});

describe('bad input and refused prescriptions change nothing', () => {
  let before: Record<string, number>;
  beforeEach(async () => {
    before = await counts(w.pharmacy);
  });
  const nothingWritten = async () => expect(await counts(w.pharmacy)).toEqual(before);

  it('lists each bad field of the schema', async () => {
    const res = await prescribe(w, {
      patientId: 'nope',
      items: [
        { medicationId: med.id, dose: '1', route: 'oral', frequency: 'daily', quantity: 0, refills: 13 },
      ],
      validUntil: 'tomorrow',
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual([
      '/body/items/0/quantity',
      '/body/items/0/refills',
      '/body/patientId',
      '/body/validUntil',
    ]);
    await nothingWritten();
  });

  it('lists each bad field the schema cannot see', async () => {
    const res = await prescribe(w, {
      patientId,
      items: [item(med.id, { dose: '  ' }), item(med.id)],
      validUntil: '2020-01-01T00:00:00Z',
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual([
      '/body/items/0/dose',
      '/body/items/1/medicationId',
      '/body/validUntil',
    ]);
    await nothingWritten();
  });

  it('names an unknown patient and an unknown medication', async () => {
    const res = await prescribe(w, {
      patientId: '0192f0c8-5f4e-7c2a-9a1b-000000000001',
      items: [item(med.id), item('0192f0c8-5f4e-7c2a-9a1b-000000000002')],
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual([
      '/body/items/1/medicationId',
      '/body/patientId',
    ]);
    await nothingWritten();
  });

  it('refuses a prescription for an inactive patient (409)', async () => {
    const gone = await register(w, { status: 'inactive' });
    const res = await prescribe(w, { patientId: gone.id, items: [item(med.id)] });
    expect(expectProblem(res, 409).code).toBe('patient_inactive');
    await nothingWritten();
  });

  it('refuses a patient deactivated after Pharmacy first saw them, once the event arrives (409)', async () => {
    const p = await register(w);
    await prescribed(w, { patientId: p.id, items: [item(med.id)] });
    const del = await w.patient.request('DELETE', `/api/v1/patients/${p.id}`, { token: w.tokens.desk });
    expect(del.status).toBe(204);
    await eventually(
      async () => (await prescribe(w, { patientId: p.id, items: [item(med.id)] })).status === 409,
      'the deactivation to reach Pharmacy',
    );
    const res = await prescribe(w, { patientId: p.id, items: [item(med.id)] });
    expect(expectProblem(res, 409).code).toBe('patient_inactive');
  });

  it('refuses a withdrawn medication (409)', async () => {
    const withdrawn = await addMedication(w);
    expect(
      (
        await w.pharmacy.request('DELETE', `/api/v1/medications/${withdrawn.id}`, {
          token: w.tokens.pharmacist,
        })
      ).status,
    ).toBe(204);
    const snapshot = await counts(w.pharmacy);
    const res = await prescribe(w, { patientId, items: [item(withdrawn.id)] });
    expect(expectProblem(res, 409).code).toBe('medication_inactive');
    expect(await counts(w.pharmacy)).toEqual(snapshot);
  });
});

describe('reading and cancelling', () => {
  it('lists by patient and status in creation order, in pages, and 404s an unknown one', async () => {
    const p = await register(w);
    const made: Prescription[] = [];
    for (let i = 0; i < 5; i += 1) made.push(await prescribed(w, { patientId: p.id, items: [item(med.id)] }));
    const all = await readAllPages<Prescription>(w.pharmacy, PRESCRIPTIONS, w.tokens.pharmacist, {
      patientId: p.id,
      limit: 2,
    });
    expect(all.items.map((x) => x.id)).toEqual(made.map((x) => x.id));
    expect(all.pages).toBe(3);
    const cancel = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${made[1]?.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'switched to another antibiotic' },
    });
    expect(cancel.status).toBe(200);
    const cancelled = await readAllPages<Prescription>(w.pharmacy, PRESCRIPTIONS, w.tokens.pharmacist, {
      patientId: p.id,
      status: 'cancelled',
    });
    expect(cancelled.items.map((x) => x.id)).toEqual([made[1]?.id]);
    const unknown = await w.pharmacy.request('GET', `${PRESCRIPTIONS}/0192f0c8-5f4e-7c2a-9a1b-000000000003`, {
      token: w.tokens.pharmacist,
    });
    expect(expectProblem(unknown, 404).code).toBe('prescription_not_found');
  });

  it('cancels with a reason, publishes it, and refuses a second cancel (409) or a stale If-Match (412)', async () => {
    const p = await prescribed(w, { patientId, items: [item(med.id)] });
    const stale = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${p.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'duplicate' },
      headers: { 'if-match': '"v9"' },
    });
    expectProblem(stale, 412);
    const blank = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${p.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: '   ' },
    });
    expect(expectValidationErrors(blank).map((e) => e.path)).toEqual(['/body/reason']);
    const res = await w.pharmacy.request<Prescription>('POST', `${PRESCRIPTIONS}/${p.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'duplicate' },
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', cancellationReason: 'duplicate', version: 2 });
    expect(res.body.cancelledAt).toBe(res.body.updatedAt);
    const rows = await outboxRows(w.pharmacy.db, { type: 'prescription.cancelled.v1', subject: p.id });
    expect(rows).toHaveLength(1);
    assertValidEvent(rows[0]?.envelope);
    expect(rows[0]?.envelope.data).toEqual({ prescription: res.body });

    const again = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${p.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'duplicate' },
    });
    const problem = expectProblem(again, 409);
    expect(problem.code).toBe('invalid_transition');
    expect((problem as Record<string, unknown>).prescriptionStatus).toBe('cancelled');
    expect(
      await outboxRows(w.pharmacy.db, { type: 'prescription.cancelled.v1', subject: p.id }),
    ).toHaveLength(1);
  });
});
