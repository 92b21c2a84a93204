import type { Medication, MedicationInput } from '@hms/contracts';
import {
  authorize,
  checkVersion,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Clock,
  type Db,
  type UpstreamClient,
} from '@hms/platform';
import type { Copies } from './copies.js';
import type { FieldProblem } from './domain/prescription.js';
import { PharmacyErrors } from './errors.js';
import * as store from './store.js';

/**
 * The formulary's use cases: authorize, validate, load, decide, save. A medication is never
 * deleted (prescriptions name it): DELETE withdraws it (`active: false`), and a withdrawn one is
 * not prescribable.
 */

/** What the use cases run with (ServiceDeps' part they need). */
export interface PharmacyContext {
  db: Db;
  clock: Clock;
  copies: Copies;
  /** The Inventory service, called with this service's token (the dispensing saga). */
  inventory: UpstreamClient;
}

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Trimmed text, blank terms refused (the allergy check compares them: a blank one would match nothing). */
function normalized(input: MedicationInput): { record: store.MedicationRecord; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const text = (field: 'name' | 'form' | 'strength' | 'unit') => {
    const v = input[field].trim();
    if (!v) problems.push({ path: `/body/${field}`, message: 'must not be blank' });
    return v;
  };
  const terms = (field: 'ingredients' | 'drugClasses', list: string[]) =>
    list.map((t, i) => {
      const v = t.trim();
      if (!v) problems.push({ path: `/body/${field}/${i}`, message: 'must not be blank' });
      return v;
    });
  const record: store.MedicationRecord = {
    code: input.code,
    name: text('name'),
    form: text('form'),
    strength: text('strength'),
    unit: text('unit'),
    ingredients: terms('ingredients', input.ingredients),
    drugClasses: terms('drugClasses', input.drugClasses ?? []),
    active: input.active ?? true,
    ...(input.inventoryItemId ? { inventoryItemId: input.inventoryItemId } : {}),
  };
  return { record, problems };
}

async function codeTaken(ctx: PharmacyContext, code: string): Promise<never> {
  const existingId = await store.medicationIdByCode(ctx.db, code);
  throw PharmacyErrors.medication_code_exists(
    `code ${code} belongs to medication ${existingId ?? 'another'}`,
    {
      extensions: { existingId },
    },
  );
}

export async function createMedication(
  ctx: PharmacyContext,
  caller: Caller,
  input: MedicationInput,
): Promise<Medication> {
  authorize(caller, 'medications:write');
  const { record, problems } = normalized(input);
  if (problems.length > 0) invalid(problems);
  try {
    return await store.insertMedication(ctx.db, uuidv7(), record, ctx.clock.now());
  } catch (err) {
    if (isUniqueViolation(err)) return codeTaken(ctx, record.code);
    throw err;
  }
}

export async function getMedication(ctx: PharmacyContext, caller: Caller, id: string): Promise<Medication> {
  authorize(caller, 'medications:read');
  const m = await store.getMedication(ctx.db, id);
  if (!m) throw PharmacyErrors.medication_not_found();
  return m;
}

const same = (m: Medication, r: store.MedicationRecord) =>
  m.code === r.code &&
  m.name === r.name &&
  m.form === r.form &&
  m.strength === r.strength &&
  m.unit === r.unit &&
  m.active === r.active &&
  m.inventoryItemId === r.inventoryItemId &&
  JSON.stringify(m.ingredients) === JSON.stringify(r.ingredients) &&
  JSON.stringify(m.drugClasses) === JSON.stringify(r.drugClasses);

/** PUT /medications/{id}: replaces the record (If-Match required); an unchanged one keeps its version. */
export async function replaceMedication(
  ctx: PharmacyContext,
  caller: Caller,
  id: string,
  input: MedicationInput,
  expected: number | '*',
): Promise<Medication> {
  authorize(caller, 'medications:write');
  const { record, problems } = normalized(input);
  if (problems.length > 0) invalid(problems);
  try {
    return await ctx.db.transaction(async (tx) => {
      const current = await store.getMedication(tx, id, true);
      if (!current) throw PharmacyErrors.medication_not_found();
      checkVersion(expected, current.version);
      if (same(current, record)) return current;
      return store.updateMedication(tx, id, record, ctx.clock.now());
    });
  } catch (err) {
    if (isUniqueViolation(err)) return codeTaken(ctx, record.code);
    throw err;
  }
}

/** DELETE /medications/{id}: withdraws it from the formulary (kept: prescriptions name it). */
export async function withdrawMedication(
  ctx: PharmacyContext,
  caller: Caller,
  id: string,
  expected: number | '*' | undefined,
): Promise<void> {
  authorize(caller, 'medications:write');
  await ctx.db.transaction(async (tx) => {
    const current = await store.getMedication(tx, id, true);
    if (!current) throw PharmacyErrors.medication_not_found();
    if (expected !== undefined) checkVersion(expected, current.version);
    if (!current.active) return;
    await store.updateMedication(tx, id, { ...recordOf(current), active: false }, ctx.clock.now());
  });
}

/** The writable part of a stored medication. */
function recordOf(m: Medication): store.MedicationRecord {
  return {
    code: m.code,
    name: m.name,
    form: m.form,
    strength: m.strength,
    unit: m.unit,
    ingredients: m.ingredients,
    drugClasses: m.drugClasses,
    active: m.active,
    ...(m.inventoryItemId ? { inventoryItemId: m.inventoryItemId } : {}),
  };
}

export interface MedicationQuery extends store.MedicationFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export async function listMedications(ctx: PharmacyContext, caller: Caller, q: MedicationQuery) {
  authorize(caller, 'medications:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listMedications(
    ctx.db,
    { code: q.code, name: q.name, drugClass: q.drugClass, ingredient: q.ingredient, active: q.active },
    { after, limit },
  );
  return toPage(rows, limit, (m) => [m.id]);
}
