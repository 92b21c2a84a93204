import { randomInt } from 'node:crypto';
import type { Patient, PatientInput } from '@hms/contracts';
import { outboxRows, type OutboxRow, type RunningService } from '@hms/testkit';
import { postCreated, useServiceWith } from '@hms/testkit/vitest';
import { patientService } from '../src/service.js';

export const PATIENTS = '/api/v1/patients';
export const SEARCH = '/api/v1/patients/search';

let n = 0;
/** A valid registration with a unique name, so tests never trip the duplicate guard by accident. */
export function newPatient(overrides: Partial<PatientInput> = {}): PatientInput {
  n += 1;
  return {
    givenName: `Ada${n}`,
    familyName: `Lovelace${Date.now().toString(36)}${n}`,
    birthDate: '1985-12-10',
    sex: 'female',
    phone: '+44 20 7946 0958',
    email: `ada${n}@example.org`,
    address: { line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    allergies: [{ substance: 'penicillin', reaction: 'rash', severity: 'moderate' }],
    conditions: [],
    ...overrides,
  };
}

/** Lower-case letters only, unique enough per call: for names a test searches by prefix. */
export function uniqueWord(length = 8): string {
  let word = '';
  for (let i = 0; i < length; i++) word += String.fromCharCode(97 + randomInt(26));
  return word;
}

/** A phone number no other test uses, written the usual way (`+44 20 1234 5678`). */
export function uniquePhone(): string {
  const d = (k: number) => String(randomInt(10 ** k)).padStart(k, '0');
  return `+44 20 ${d(4)} ${d(4)}`;
}

/** A birth date in the 20th century, different from the helpers' default one. */
export function randomBirthDate(): string {
  const day = new Date(Date.UTC(1901, 0, 1) + randomInt(36_000) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

export interface Tokens {
  /** receptionist: patients:read and patients:write */
  writer: string;
  /** a service identity whose only permission is patients:read */
  reader: string;
}

export async function tokensFor(svc: RunningService): Promise<Tokens> {
  return {
    writer: await svc.keys.mint({ roles: ['receptionist'] }),
    reader: await svc.keys.mint({ sub: 'svc:reader', scope: ['patients:read'] }),
  };
}

/**
 * Starts the Patient service for this test file (on real PostgreSQL when TEST_DATABASE_URL is set)
 * and closes it after the file; `ready` gets it and a token per role once it is up.
 */
export function usePatientService(
  ready: (svc: RunningService, tokens: Tokens) => void | Promise<void>,
): void {
  useServiceWith(patientService, tokensFor, ready);
}

/** Registers a patient through the API and fails the test unless it answers 201. */
export const register = (svc: RunningService, token: string, input: PatientInput = newPatient()) =>
  postCreated<Patient>(svc, PATIENTS, token, input);

export const outboxOf = (svc: RunningService, subject: string): Promise<OutboxRow[]> =>
  outboxRows(svc.db, { subject });

/** How many patients and outbox rows the database holds: a rejected request must change neither. */
export async function counts(svc: RunningService): Promise<{ patients: number; outbox: number }> {
  const { rows } = await svc.db.query<{ patients: number; outbox: number }>(
    'SELECT (SELECT count(*) FROM patients)::int AS patients, (SELECT count(*) FROM outbox)::int AS outbox',
  );
  const row = rows[0];
  if (!row) throw new Error('no counts');
  return row;
}

/** The stored row of a patient as the database has it (not as the API answers). */
export async function storedRow(
  svc: RunningService,
  id: string,
): Promise<{ version: number; status: string; given_name: string; phone: string | null } | undefined> {
  const { rows } = await svc.db.query<{
    version: number;
    status: string;
    given_name: string;
    phone: string | null;
  }>('SELECT version, status, given_name, phone FROM patients WHERE id = $1', [id]);
  return rows[0];
}

/** A copy of `obj` without the given keys. */
export function omit<T extends object, K extends keyof T>(obj: T, ...keys: K[]): Omit<T, K> {
  const drop = new Set<PropertyKey>(keys);
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !drop.has(k))) as Omit<T, K>;
}

/** The writable part of a patient as answered by the API, i.e. a PUT body that changes nothing. */
export function putBodyOf(p: Patient): PatientInput {
  return omit(p, 'id', 'mrn', 'version', 'createdAt', 'updatedAt');
}
