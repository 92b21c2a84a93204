import type { Staff, StaffInput } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import { applyPatch, bodyPointer, changedFields, checkStaff, normalizeInput } from '../src/domain/staff.js';

const input: StaffInput = {
  givenName: 'Grace',
  familyName: 'Hopper',
  role: 'physician',
  department: 'Cardiology',
  timezone: 'America/New_York',
  weeklyHours: [{ day: 'mon', start: '21:00', end: '03:00' }],
};
const stored: Staff = {
  ...(normalizeInput(input) as Staff),
  id: '0190f3a0-0000-7000-8000-000000000000',
  email: 'grace@example.org',
  version: 3,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('the schedule rules are the scheduling module’s, named as body pointers', () => {
  it.each([
    ['timezone', '/body/timezone'],
    ['weeklyHours[1]', '/body/weeklyHours/1'],
    ['overrides[2].shifts[0].start', '/body/overrides/2/shifts/0/start'],
    ['overrides/2/date', '/body/overrides/2/date'],
  ])('%s → %s', (path, pointer) => {
    expect(bodyPointer(path)).toBe(pointer);
  });

  it('a valid record has no problems; a shift past midnight touching the next one is fine', () => {
    expect(
      checkStaff({
        ...input,
        weeklyHours: [
          { day: 'mon', start: '21:00', end: '03:00' },
          { day: 'tue', start: '03:00', end: '09:00' },
        ],
      }),
    ).toEqual([]);
  });

  it('a Sunday night shift running into Monday morning overlaps it (the week wraps)', () => {
    const problems = checkStaff({
      ...input,
      weeklyHours: [
        { day: 'mon', start: '00:30', end: '08:00' },
        { day: 'sun', start: '20:00', end: '01:00' },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual(['/body/weeklyHours/1']);
  });

  it('blank names and an unknown zone are named together', () => {
    const problems = checkStaff({ ...input, givenName: ' ', timezone: 'Moon/Tranquility' });
    expect(problems.map((p) => p.path)).toEqual(['/body/givenName', '/body/timezone']);
  });
});

describe('merge patch and changed fields', () => {
  it('null clears an optional field and empties a list; absent fields stay', () => {
    const next = applyPatch(stored, { email: null, weeklyHours: null, department: 'Oncology' });
    expect(next).not.toHaveProperty('email');
    expect(next).toMatchObject({ weeklyHours: [], department: 'Oncology', givenName: 'Grace' });
    expect(changedFields(stored, normalizeInput(next))).toEqual(['department', 'email', 'weeklyHours']);
  });

  it('the same schedule with its keys in another order is no change', () => {
    const reordered = { ...stored, weeklyHours: [{ end: '03:00', start: '21:00', day: 'mon' as const }] };
    expect(changedFields(stored, normalizeInput(applyPatch(reordered, {})))).toEqual([]);
  });
});
