import type { Medication, Prescription } from '@hms/contracts';
import { expectAccessMatrix, expectErrorCatalogue } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MEDICATIONS,
  PRESCRIPTIONS,
  addMedication,
  counts,
  item,
  prescribed,
  register,
  useWorld,
  type World,
} from './helpers.js';

const world = useWorld();
let w: World;
let med: Medication;
let rx: Prescription;

beforeAll(async () => {
  w = world();
  med = await addMedication(w);
  rx = await prescribed(w, { patientId: (await register(w)).id, items: [item(med.id)] });
});

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(w.pharmacy, {
      params: { id: rx.id },
      untouched: () => counts(w.pharmacy),
    });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${MEDICATIONS}`,
        `POST ${MEDICATIONS}`,
        `GET ${MEDICATIONS}/:id`,
        `PUT ${MEDICATIONS}/:id`,
        `DELETE ${MEDICATIONS}/:id`,
        `GET ${PRESCRIPTIONS}`,
        `POST ${PRESCRIPTIONS}`,
        `GET ${PRESCRIPTIONS}/:id`,
        `POST ${PRESCRIPTIONS}/:id/cancel`,
        `POST ${PRESCRIPTIONS}/:id/fill`,
        `POST ${MEDICATIONS}/:id/dispense`,
        `GET ${MEDICATIONS}/:id/dispenses`,
      ].sort(),
    );
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(w.pharmacy, new URL('../src/', import.meta.url));
    expect(used.sort()).toEqual(
      [
        'medication_not_found',
        'prescription_not_found',
        'medication_code_exists',
        'medication_inactive',
        'patient_inactive',
        'prescriber_not_eligible',
        'prescriber_not_self',
        'allergy_conflict',
        'invalid_transition',
        'not_fillable',
        'medication_not_stocked',
        'fill_rejected',
        // (the use cases' 403 and 400 come from the kit's authorize and invalid)
      ].sort(),
    );
  });
});

describe('by role (roles.ts)', () => {
  it('a nurse reads prescriptions and the formulary but writes neither', async () => {
    const read = await w.pharmacy.request('GET', `${PRESCRIPTIONS}/${rx.id}`, { token: w.tokens.nurse });
    expect(read.status).toBe(200);
    expect((await w.pharmacy.request('GET', MEDICATIONS, { token: w.tokens.nurse })).status).toBe(200);
    const write = await w.pharmacy.request('POST', MEDICATIONS, { token: w.tokens.nurse, body: {} });
    expect(write.status).toBe(403);
    const cancel = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${rx.id}/cancel`, {
      token: w.tokens.nurse,
      body: { reason: 'x' },
    });
    expect(cancel.status).toBe(403);
  });

  it('a receptionist sees no prescription', async () => {
    const res = await w.pharmacy.request('GET', PRESCRIPTIONS, { token: w.tokens.desk });
    expect(res.status).toBe(403);
  });
});
