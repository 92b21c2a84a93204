import { STAFF_FIELDS, type Staff, type StaffField, type StaffInput, type StaffPatch } from '@hms/contracts';
import { isValidSchedule } from '@hms/scheduling';

/** Pure rules of the Staff record and its working time: no I/O here (STYLE.md §3). */

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * A path of the scheduling module (`weeklyHours[1].start`, `timezone`) as the JSON pointer into
 * the request body the API's problems use (`/body/weeklyHours/1/start`).
 */
export function bodyPointer(path: string): string {
  const tail = path
    .replace(/\[(\d+)\]/g, '/$1')
    .replace(/\./g, '/')
    .replace(/^\/+/, '');
  return tail ? `/body/${tail}` : '/body';
}

/**
 * Rules a schema cannot say: names not blank, and the schedule's rules, which are the scheduling
 * module's (`isValidSchedule`: a known IANA zone, HH:MM times, weekly shifts that do not overlap,
 * a shift past midnight included and Sunday night wrapping into Monday, override dates given
 * once, an override's shifts not overlapping), so what Staff accepts is what availability reads.
 */
export function checkStaff(input: StaffInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!input.givenName.trim()) problems.push({ path: '/body/givenName', message: 'must not be blank' });
  if (!input.familyName.trim()) problems.push({ path: '/body/familyName', message: 'must not be blank' });
  if (!input.department.trim()) problems.push({ path: '/body/department', message: 'must not be blank' });
  const schedule = {
    timezone: input.timezone,
    weeklyHours: input.weeklyHours ?? [],
    overrides: input.overrides ?? [],
  };
  for (const p of isValidSchedule(schedule)) problems.push({ path: bodyPointer(p.path), message: p.message });
  return problems;
}

/** Trims names; fills the defaults (no specialties, no hours, active). */
export function normalizeInput(input: StaffInput): StaffInput {
  return {
    ...input,
    givenName: input.givenName.trim(),
    familyName: input.familyName.trim(),
    department: input.department.trim(),
    specialties: input.specialties ?? [],
    weeklyHours: input.weeklyHours ?? [],
    overrides: input.overrides ?? [],
    active: input.active ?? true,
  };
}

/** The writable part of a stored staff member, as PUT would send it. */
export function writableOf(s: Staff): StaffInput {
  const out: StaffInput = {
    givenName: s.givenName,
    familyName: s.familyName,
    role: s.role,
    department: s.department,
    specialties: s.specialties,
    active: s.active,
    timezone: s.timezone,
    weeklyHours: s.weeklyHours,
    overrides: s.overrides,
  };
  if (s.licenseNumber !== undefined) out.licenseNumber = s.licenseNumber;
  if (s.email !== undefined) out.email = s.email;
  if (s.phone !== undefined) out.phone = s.phone;
  return out;
}

const CLEARED_TO_EMPTY = new Set(['specialties', 'weeklyHours', 'overrides']);

/** RFC 7396 merge patch at the top level: `null` removes an optional field (empties a list). */
export function applyPatch(current: Staff, patch: StaffPatch): StaffInput {
  const next = new Map<string, unknown>(Object.entries(writableOf(current)));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      if (CLEARED_TO_EMPTY.has(key)) next.set(key, []);
      else next.delete(key);
    } else if (value !== undefined) {
      next.set(key, value);
    }
  }
  return Object.fromEntries(next) as StaffInput;
}

/** JSON with object keys sorted: the database hands jsonb objects back with their keys reordered. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Which fields differ between the stored record and the (normalized) one about to be written. */
export function changedFields(current: Staff, next: StaffInput): StaffField[] {
  const before = writableOf(current) as Record<string, unknown>;
  const after = next as Record<string, unknown>;
  return STAFF_FIELDS.filter((f) => canonical(before[f]) !== canonical(after[f]));
}
