import {
  PATIENT_FIELDS,
  type Patient,
  type PatientField,
  type PatientInput,
  type PatientPatch,
} from '@hms/contracts';

/** Pure rules of the Patient record: no I/O here (STYLE.md §3). */

export interface FieldProblem {
  path: string;
  message: string;
}

/** Rules a schema cannot say: a birth date is not in the future nor implausibly old. */
export function checkPatient(input: PatientInput, today = new Date()): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const todayIso = today.toISOString().slice(0, 10);
  if (input.birthDate > todayIso)
    problems.push({ path: '/body/birthDate', message: 'must not be in the future' });
  if (input.birthDate < '1880-01-01')
    problems.push({ path: '/body/birthDate', message: 'must be on or after 1880-01-01' });
  if (!input.givenName.trim()) problems.push({ path: '/body/givenName', message: 'must not be blank' });
  if (!input.familyName.trim()) problems.push({ path: '/body/familyName', message: 'must not be blank' });
  input.conditions?.forEach((c, i) => {
    if (c.onset && c.onset < input.birthDate)
      problems.push({ path: `/body/conditions/${i}/onset`, message: 'must not be before the birth date' });
  });
  return problems;
}

/** Trims names; optional fields keep their absence. */
export function normalizeInput(input: PatientInput): PatientInput {
  return { ...input, givenName: input.givenName.trim(), familyName: input.familyName.trim() };
}

/** The writable part of a stored patient, as PUT would send it. */
export function writableOf(p: Patient): PatientInput {
  const out: PatientInput = {
    givenName: p.givenName,
    familyName: p.familyName,
    birthDate: p.birthDate,
    sex: p.sex,
    status: p.status,
    allergies: p.allergies,
    conditions: p.conditions,
  };
  if (p.phone !== undefined) out.phone = p.phone;
  if (p.email !== undefined) out.email = p.email;
  if (p.address !== undefined) out.address = p.address;
  if (p.emergencyContact !== undefined) out.emergencyContact = p.emergencyContact;
  if (p.insurance !== undefined) out.insurance = p.insurance;
  return out;
}

/** RFC 7396 merge patch at the top level of the record: `null` removes an optional field. */
export function applyPatch(current: Patient, patch: PatientPatch): PatientInput {
  const next = new Map<string, unknown>(Object.entries(writableOf(current)));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      if (key === 'allergies' || key === 'conditions') next.set(key, []);
      else next.delete(key);
    } else if (value !== undefined) {
      next.set(key, value);
    }
  }
  return Object.fromEntries(next) as PatientInput;
}

/** JSON with object keys sorted: the database hands jsonb objects back with their keys reordered. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Which fields differ between the stored record and the one about to be written. */
export function changedFields(current: Patient, next: PatientInput): PatientField[] {
  const before = writableOf(current) as Record<string, unknown>;
  const after = { allergies: [], conditions: [], status: current.status, ...next } as Record<string, unknown>;
  return PATIENT_FIELDS.filter((f) => canonical(before[f]) !== canonical(after[f]));
}

/** Luhn mod 10 check digit, so a mistyped MRN is caught before it is looked up. */
export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** MRN from a sequence number: `MRN` + 8 digits + check digit, e.g. MRN010000014. */
export function formatMrn(seq: number): string {
  const digits = String(seq).padStart(8, '0');
  return `MRN${digits}${luhnDigit(digits)}`;
}

export function isValidMrn(mrn: string): boolean {
  const m = /^MRN(\d{8,})(\d)$/.exec(mrn.toUpperCase());
  return !!m && luhnDigit(m[1] ?? '') === Number(m[2]);
}

/**
 * Splits a name query into words (at most four). Folding (case, accents) is the database's job,
 * through the same function that folds the stored names, so the two can never disagree.
 */
export function nameTokens(name: string): string[] {
  return name
    .split(/[\s,]+/)
    .map((t) => t.replace(/[%_\\]/g, ''))
    .filter((t) => t.length > 0)
    .slice(0, 4);
}

export function phoneDigits(phone: string): string {
  return phone.replace(/\D/g, '');
}
