import type { Patient, PatientInput, PatientPatch } from '@hms/contracts';
import {
  CommonErrors,
  appendToOutbox,
  changeVersioned,
  decodeCursor,
  isUuid,
  toPage,
  uuidv7,
  type Db,
} from '@hms/platform';
import {
  applyPatch,
  changedFields,
  checkPatient,
  formatMrn,
  nameTokens,
  normalizeInput,
  phoneDigits,
} from './domain/patient.js';
import { PatientErrors } from './errors.js';
import * as store from './store.js';

/**
 * The Patient service's use cases. Each reads like the story: validate, load, decide, save, emit;
 * a change and its event commit in one transaction (DESIGN.md §5).
 */
export const SOURCE = 'patient';

function assertValid(input: PatientInput): PatientInput {
  const normalized = normalizeInput(input);
  const problems = checkPatient(normalized);
  if (problems.length > 0)
    throw CommonErrors.validation_failed('one or more fields are not valid', { errors: problems });
  return normalized;
}

export async function registerPatient(
  db: Db,
  raw: PatientInput,
  opts: { confirmDuplicate: boolean },
): Promise<Patient> {
  const input = assertValid(raw);
  return db.transaction(async (tx) => {
    await store.lockIdentity(tx, input);
    if (!opts.confirmDuplicate) {
      const existingId = await store.findActiveDuplicate(tx, input);
      if (existingId)
        throw PatientErrors.duplicate_patient(
          'resend with ?confirmDuplicate=true if this is a different person',
          {
            extensions: { existingId },
          },
        );
    }
    const patient = await store.insertPatient(
      tx,
      uuidv7(),
      formatMrn(await store.nextMrnSequence(tx)),
      input,
    );
    await appendToOutbox(tx, SOURCE, {
      type: 'patient.registered.v1',
      subject: patient.id,
      data: { patient },
    });
    return patient;
  });
}

export async function getPatient(db: Db, id: string): Promise<Patient> {
  const patient = await store.getPatient(db, id);
  if (!patient) throw PatientErrors.patient_not_found();
  return patient;
}

/**
 * Writes a new state of a patient when it differs from the stored one: version + 1 and a
 * `patient.updated.v1` naming the changed fields. No change, no new version, no event.
 */
function change(
  db: Db,
  id: string,
  expected: number | '*' | undefined,
  next: (current: Patient) => PatientInput,
): Promise<Patient> {
  return changeVersioned(db, SOURCE, expected, {
    load: (tx) => store.getPatient(tx, id, true),
    notFound: () => PatientErrors.patient_not_found(),
    next: (current) => assertValid(next(current)),
    changedFields,
    save: (tx, input, current) => store.updatePatient(tx, id, input, input.status ?? current.status),
    event: (patient, changed) => ({
      type: 'patient.updated.v1',
      subject: id,
      data: { patient, changedFields: changed },
    }),
  });
}

/** PUT: the body is the whole writable record; omitted optional fields are cleared. */
export function replacePatient(
  db: Db,
  id: string,
  input: PatientInput,
  expected: number | '*',
): Promise<Patient> {
  return change(db, id, expected, (current) => ({ ...input, status: input.status ?? current.status }));
}

/** PATCH (JSON merge patch): only the fields sent change. */
export function patchPatient(
  db: Db,
  id: string,
  patch: PatientPatch,
  expected: number | '*' | undefined,
): Promise<Patient> {
  return change(db, id, expected, (current) => applyPatch(current, patch));
}

/** DELETE deactivates: the record is retained by law and leaves the default lists. */
export function deactivatePatient(db: Db, id: string, expected: number | '*' | undefined): Promise<Patient> {
  return change(db, id, expected, (current) => ({
    ...applyPatch(current, {}),
    status: current.status === 'active' ? 'inactive' : current.status,
  }));
}

/** The key after which a list page starts: the id of the last patient of the page before. */
function listAfter(cursor: string | undefined): string | undefined {
  return decodeCursor(cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as string | undefined;
}

/** The key after which a search page starts: (rank, family, given, id) of the last match before. */
function searchAfter(cursor: string | undefined): store.SearchKey | undefined {
  const isKey = ([rank, family, given, id]: (string | number)[]) =>
    typeof rank === 'number' &&
    Number.isInteger(rank) &&
    rank >= 0 &&
    rank < 2 ** 31 &&
    typeof family === 'string' &&
    typeof given === 'string' &&
    typeof id === 'string' &&
    isUuid(id);
  return decodeCursor(cursor, 4, isKey) as store.SearchKey | undefined;
}

export async function listPatients(
  db: Db,
  q: { status?: store.StatusFilter; limit?: number; cursor?: string },
) {
  const limit = q.limit ?? 20;
  const rows = await store.listPatients(db, {
    status: q.status ?? 'active',
    after: listAfter(q.cursor),
    limit,
  });
  return toPage(rows, limit, (p) => [p.id]);
}

export interface SearchQuery {
  name?: string;
  birthDate?: string;
  mrn?: string;
  phone?: string;
  email?: string;
  status?: store.StatusFilter;
  limit?: number;
  cursor?: string;
}

export async function searchPatients(db: Db, q: SearchQuery) {
  const tokens = q.name ? nameTokens(q.name) : [];
  const digits = q.phone ? phoneDigits(q.phone) : undefined;
  if (tokens.length === 0 && !q.birthDate && !q.mrn && !digits && !q.email)
    throw PatientErrors.search_criteria_required('use name, birthDate, mrn, phone or email', {
      errors: [{ path: '/querystring', message: 'needs at least one of name, birthDate, mrn, phone, email' }],
    });
  const limit = q.limit ?? 20;
  const after = searchAfter(q.cursor);
  const rows = await store.searchPatients(
    db,
    {
      nameTokens: tokens,
      birthDate: q.birthDate,
      mrn: q.mrn,
      phoneDigits: digits,
      email: q.email,
      status: q.status ?? 'active',
    },
    { after, limit },
  );
  const page = toPage(rows, limit, (r) => r.key);
  return { items: page.items.map((r) => r.patient), nextCursor: page.nextCursor };
}
