import { assertValidEvent, type Medication, type Prescription } from '@hms/contracts';
import { createTestBus, createTestKeys, outboxRows, startService } from '@hms/testkit';
import { expectProblem, useStarted } from '@hms/testkit/vitest';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { pharmacyService } from '../src/service.js';
import {
  MEDICATIONS,
  PRESCRIPTIONS,
  addMedication,
  amoxicillin,
  counts,
  eventually,
  item,
  paracetamol,
  prescribe,
  register,
  useWorld,
  type World,
} from './helpers.js';

/**
 * The allergy check (issue #12, Must show): amoxicillin, of the class `penicillins`, for a patient
 * allergic to "Penicillin" is refused without an overrideReason and accepted with one, the reason
 * kept and published; and it fails closed: an empty copy and a Patient service that cannot answer
 * is 503, never a prescription that skipped the check.
 */
describe('the allergy check', () => {
  const world = useWorld();
  let w: World;
  let amox: Medication;
  let para: Medication;
  let allergic: string;

  beforeAll(async () => {
    w = world();
    amox = await addMedication(w, amoxicillin());
    para = await addMedication(w, paracetamol());
    allergic = (
      await register(w, { allergies: [{ substance: 'Penicillin', reaction: 'hives', severity: 'severe' }] })
    ).id;
  });

  it('refuses amoxicillin (class penicillins) for a patient allergic to "Penicillin" without an overrideReason, naming the allergy', async () => {
    const before = await counts(w.pharmacy);
    const res = await prescribe(w, { patientId: allergic, items: [item(para.id), item(amox.id)] });
    const problem = expectProblem(res, 409);
    expect(problem.code).toBe('allergy_conflict');
    expect(problem.detail).toContain('Penicillin');
    expect((problem as Record<string, unknown>).allergies).toEqual([
      { substance: 'Penicillin', medicationId: amox.id, matched: 'drugClass', term: 'penicillins' },
    ]);
    expect(await counts(w.pharmacy)).toEqual(before);
  });

  it('accepts it with an overrideReason, which is stored and published with the prescription', async () => {
    const overrideReason = 'tolerated amoxicillin in 2024 under observation; no alternative';
    const res = await prescribe(w, { patientId: allergic, items: [item(amox.id)], overrideReason });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const alerts = [
      { substance: 'Penicillin', medicationId: amox.id, matched: 'drugClass', term: 'penicillins' },
    ];
    expect(res.body).toMatchObject({ overrideReason, allergyAlerts: alerts });

    const got = await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${res.body.id}`, {
      token: w.tokens.pharmacist,
    });
    expect(got.body).toMatchObject({ overrideReason, allergyAlerts: alerts });
    const { rows } = await w.pharmacy.db.query<{ override_reason: string }>(
      'SELECT override_reason FROM prescriptions WHERE id = $1',
      [res.body.id],
    );
    expect(rows[0]?.override_reason).toBe(overrideReason);

    const events = await outboxRows(w.pharmacy.db, { type: 'prescription.created.v1', subject: res.body.id });
    expect(events).toHaveLength(1);
    assertValidEvent(events[0]?.envelope);
    const published = events[0]?.envelope.data.prescription as Prescription;
    expect(published.overrideReason).toBe(overrideReason);
    expect(published.allergyAlerts).toEqual(alerts);
  });

  it('matches an allergy recorded against the ingredient, in another case and number', async () => {
    const patient = await register(w, { allergies: [{ substance: 'AMOXICILLINS', severity: 'moderate' }] });
    const res = await prescribe(w, { patientId: patient.id, items: [item(amox.id)] });
    expect((expectProblem(res, 409) as Record<string, unknown>).allergies).toEqual([
      { substance: 'AMOXICILLINS', medicationId: amox.id, matched: 'ingredient', term: 'amoxicillin' },
    ]);
  });

  it('matches a plural allergy against a singular drug class', async () => {
    const penV = await addMedication(
      w,
      amoxicillin({
        name: 'Penicillin V 250 mg tablet',
        ingredients: ['phenoxymethylpenicillin'],
        drugClasses: ['Penicillin'],
      }),
    );
    const patient = await register(w, { allergies: [{ substance: 'penicillins', severity: 'mild' }] });
    const res = await prescribe(w, { patientId: patient.id, items: [item(penV.id)] });
    expect(expectProblem(res, 409).code).toBe('allergy_conflict');
  });

  it('prescribes what matches none of the allergies without an overrideReason', async () => {
    const res = await prescribe(w, { patientId: allergic, items: [item(para.id)] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.allergyAlerts).toEqual([]);
    expect(res.body.overrideReason).toBeUndefined();
  });

  it('sees an allergy added after Pharmacy first saw the patient (patient.updated.v1)', async () => {
    const patient = await register(w);
    const first = await prescribe(w, { patientId: patient.id, items: [item(amox.id)] });
    expect(first.status).toBe(201);
    const patch = await w.patient.request('PATCH', `/api/v1/patients/${patient.id}`, {
      token: w.tokens.desk,
      body: { allergies: [{ substance: 'Penicillin', severity: 'severe' }] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    // the copy follows the patient's event: wait for it, then prescribe again
    await eventually(async () => {
      const { rows } = await w.pharmacy.db.query<{ data: { allergies: unknown[] } }>(
        `SELECT data FROM local_copies WHERE kind = 'patient-allergies' AND id = $1`,
        [patient.id],
      );
      return (rows[0]?.data.allergies.length ?? 0) > 0;
    }, 'patient.updated.v1 to reach Pharmacy');
    const status = (await prescribe(w, { patientId: patient.id, items: [item(amox.id)] })).status;
    expect(status).toBe(409);
  });
});

/** A TCP port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('the allergy check fails closed', () => {
  // Pharmacy alone on a bus of its own: it hears no patient event, so its copy is empty, and the
  // Patient service it would read through to is a port nobody listens on.
  const started = useStarted(async () => {
    const keys = await createTestKeys();
    const bus = await createTestBus();
    const port = await closedPort();
    const pharmacy = await startService(pharmacyService, {
      keys,
      bus: bus.bus,
      env: { PATIENT_URL: `http://127.0.0.1:${port}`, STAFF_URL: `http://127.0.0.1:${port}` },
    });
    return {
      pharmacy,
      keys,
      async close() {
        await pharmacy.close();
        await bus.close();
      },
    };
  }, 60_000);

  it('answers 503 with Retry-After when the copy lacks the patient and Patient cannot answer, writing nothing', async () => {
    const { pharmacy, keys } = started();
    const pharmacist = await keys.mint({ roles: ['pharmacist'] });
    const physician = await keys.mint({
      roles: ['physician'],
      staffId: '0192f0c8-5f4e-7c2a-9a1b-0000000000aa',
    });
    const m = await pharmacy.request<Medication>('POST', MEDICATIONS, {
      token: pharmacist,
      body: amoxicillin(),
    });
    expect(m.status).toBe(201);
    const before = await counts(pharmacy);
    const res = await pharmacy.request('POST', PRESCRIPTIONS, {
      token: physician,
      body: {
        patientId: '0192f0c8-5f4e-7c2a-9a1b-0000000000bb',
        items: [item(m.body.id)],
        overrideReason: 'an override does not skip the check of whether the patient exists',
      },
    });
    expectProblem(res, 503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await counts(pharmacy)).toEqual(before);
    const { rows } = await pharmacy.db.query('SELECT id FROM prescriptions');
    expect(rows).toEqual([]);
  });
});
