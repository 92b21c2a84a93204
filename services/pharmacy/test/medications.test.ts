import type { Medication, MedicationInput } from '@hms/contracts';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MEDICATIONS,
  addMedication,
  amoxicillin,
  counts,
  paracetamol,
  unique,
  useWorld,
  type World,
} from './helpers.js';

const world = useWorld();
let w: World;
beforeAll(() => {
  w = world();
});

const post = (body: unknown, token = w.tokens.pharmacist) =>
  w.pharmacy.request<Medication>('POST', MEDICATIONS, { token, body });

describe('the formulary', () => {
  it('adds a medication and answers it as stored, with its ETag and location', async () => {
    const input = amoxicillin({ inventoryItemId: '0192f0c8-5f4e-7c2a-9a1b-2c3d4e5f6a7b' });
    const res = await post(input);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String) as string,
      ...input,
      active: true,
      version: 1,
      createdAt: expect.any(String) as string,
      updatedAt: res.body.createdAt,
    });
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.headers.get('location')).toBe(`${MEDICATIONS}/${res.body.id}`);
    const got = await w.pharmacy.request<Medication>('GET', `${MEDICATIONS}/${res.body.id}`, {
      token: w.tokens.nurse,
    });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('trims text and keeps no drug classes when none are given', async () => {
    const input: Partial<MedicationInput> = paracetamol({ name: '  Acetaminophen 500 mg oral tablet ' });
    delete input.drugClasses;
    const m = await addMedication(w, input as MedicationInput);
    expect(m.name).toBe('Acetaminophen 500 mg oral tablet');
    expect(m.drugClasses).toEqual([]);
    expect(m.inventoryItemId).toBeUndefined();
  });

  it('refuses a second medication with the same code, naming the first, and writes nothing', async () => {
    const first = await addMedication(w, amoxicillin());
    const before = await counts(w.pharmacy);
    const res = await post(amoxicillin({ code: first.code }));
    const problem = expectProblem(res, 409);
    expect(problem.code).toBe('medication_code_exists');
    expect((problem as Record<string, unknown>).existingId).toBe(first.id);
    expect(await counts(w.pharmacy)).toEqual(before);
  });

  it('answers bad input with a 400 naming each bad field, and writes nothing', async () => {
    const before = await counts(w.pharmacy);
    const bad = { ...amoxicillin(), code: 'has spaces', ingredients: [], strength: 7, unit: undefined };
    expect(expectValidationErrors(await post(bad)).map((e) => e.path)).toEqual([
      '/body/code',
      '/body/ingredients',
      '/body/strength',
      '/body/unit',
    ]);
    const blank = amoxicillin({ name: '   ', ingredients: ['amoxicillin', ' '], drugClasses: ['\t'] });
    expect(expectValidationErrors(await post(blank)).map((e) => e.path)).toEqual([
      '/body/drugClasses/0',
      '/body/ingredients/1',
      '/body/name',
    ]);
    expect(await counts(w.pharmacy)).toEqual(before);
  });

  it('replaces a medication with If-Match, bumping its version; a stale or missing one changes nothing', async () => {
    const m = await addMedication(w, amoxicillin());
    const body: MedicationInput = {
      code: m.code,
      name: 'Amoxicillin 250 mg oral capsule',
      form: m.form,
      strength: '250 mg',
      unit: m.unit,
      ingredients: m.ingredients,
      drugClasses: m.drugClasses,
    };
    const stale = await w.pharmacy.request('PUT', `${MEDICATIONS}/${m.id}`, {
      token: w.tokens.pharmacist,
      body,
      headers: { 'if-match': '"v7"' },
    });
    expectProblem(stale, 412);
    expectProblem(
      await w.pharmacy.request('PUT', `${MEDICATIONS}/${m.id}`, { token: w.tokens.pharmacist, body }),
      428,
    );
    const ok = await w.pharmacy.request<Medication>('PUT', `${MEDICATIONS}/${m.id}`, {
      token: w.tokens.pharmacist,
      body,
      headers: { 'if-match': '"v1"' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      strength: '250 mg',
      name: 'Amoxicillin 250 mg oral capsule',
      version: 2,
    });
    expect(ok.headers.get('etag')).toBe('"v2"');
  });

  it('withdraws a medication on DELETE: kept, inactive', async () => {
    const m = await addMedication(w, amoxicillin());
    const res = await w.pharmacy.request('DELETE', `${MEDICATIONS}/${m.id}`, { token: w.tokens.pharmacist });
    expect(res.status).toBe(204);
    const got = await w.pharmacy.request<Medication>('GET', `${MEDICATIONS}/${m.id}`, {
      token: w.tokens.pharmacist,
    });
    expect(got.body).toMatchObject({ id: m.id, active: false, version: 2 });
  });

  it('answers 404 for an unknown medication and 400 for an id that is not a uuid', async () => {
    const unknown = await w.pharmacy.request('GET', `${MEDICATIONS}/0192f0c8-5f4e-7c2a-9a1b-000000000000`, {
      token: w.tokens.pharmacist,
    });
    expect(expectProblem(unknown, 404).code).toBe('medication_not_found');
    const bad = await w.pharmacy.request('GET', `${MEDICATIONS}/nope`, { token: w.tokens.pharmacist });
    expect(expectValidationErrors(bad).map((e) => e.path)).toEqual(['/params/id']);
  });

  it('lists by drug class and ingredient in any case, by name part and code, in pages', async () => {
    const cls = `cls-${unique()}`;
    const made: Medication[] = [];
    for (let i = 0; i < 5; i += 1)
      made.push(
        await addMedication(w, paracetamol({ drugClasses: [cls], ingredients: [`ingr-${cls}-${i % 2}`] })),
      );
    const { items, pages } = await readAllPages<Medication>(w.pharmacy, MEDICATIONS, w.tokens.nurse, {
      drugClass: cls.toUpperCase(),
      limit: 2,
    });
    expect(items.map((m) => m.id)).toEqual(made.map((m) => m.id));
    expect(pages).toBe(3);
    const byIngredient = await readAllPages<Medication>(w.pharmacy, MEDICATIONS, w.tokens.nurse, {
      ingredient: `INGR-${cls}-1`,
    });
    expect(byIngredient.items.map((m) => m.id)).toEqual([made[1]?.id, made[3]?.id]);
    const byCode = await readAllPages<Medication>(w.pharmacy, MEDICATIONS, w.tokens.nurse, {
      code: made[2]?.code,
    });
    expect(byCode.items.map((m) => m.id)).toEqual([made[2]?.id]);
    const byName = await readAllPages<Medication>(w.pharmacy, MEDICATIONS, w.tokens.nurse, {
      name: 'ACETAMINOPHEN 500',
      drugClass: cls,
      active: 'true',
    });
    expect(byName.items).toHaveLength(5);
  });

  it('refuses a cursor it did not issue', async () => {
    const res = await w.pharmacy.request('GET', `${MEDICATIONS}?cursor=garbage`, { token: w.tokens.nurse });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });
});
