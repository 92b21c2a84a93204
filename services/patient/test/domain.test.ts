import type { Patient, PatientInput } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  changedFields,
  checkPatient,
  formatMrn,
  isValidMrn,
  luhnDigit,
  nameTokens,
  normalizeInput,
  phoneDigits,
  writableOf,
} from '../src/domain/patient.js';
import { omit } from './helpers.js';

const input = (overrides: Partial<PatientInput> = {}): PatientInput => ({
  givenName: 'Ada',
  familyName: 'Lovelace',
  birthDate: '1985-12-10',
  sex: 'female',
  ...overrides,
});

const stored = (overrides: Partial<Patient> = {}): Patient => ({
  id: '01900000-0000-7000-8000-000000000000',
  mrn: 'MRN010000016',
  givenName: 'Ada',
  familyName: 'Lovelace',
  birthDate: '1985-12-10',
  sex: 'female',
  phone: '+44 20 7946 0958',
  email: 'ada@example.org',
  address: { line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  allergies: [{ substance: 'penicillin', reaction: 'rash', severity: 'moderate' }],
  conditions: [],
  status: 'active',
  version: 3,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-02-01T00:00:00.000Z',
  ...overrides,
});

const TODAY = new Date('2024-06-15T12:00:00Z');

describe('checkPatient', () => {
  it('accepts a valid record', () => {
    expect(checkPatient(input({ birthDate: '1985-12-10' }), TODAY)).toEqual([]);
  });

  it('accepts a birth date of today and of 1880-01-01', () => {
    expect(checkPatient(input({ birthDate: '2024-06-15' }), TODAY)).toEqual([]);
    expect(checkPatient(input({ birthDate: '1880-01-01' }), TODAY)).toEqual([]);
  });

  it('refuses a birth date in the future', () => {
    expect(checkPatient(input({ birthDate: '2024-06-16' }), TODAY)).toEqual([
      { path: '/body/birthDate', message: 'must not be in the future' },
    ]);
  });

  it('refuses a birth date before 1880', () => {
    expect(checkPatient(input({ birthDate: '1879-12-31' }), TODAY)).toEqual([
      { path: '/body/birthDate', message: 'must be on or after 1880-01-01' },
    ]);
  });

  it('judges "today" in UTC', () => {
    const lateEveningUtc = new Date('2024-06-15T23:59:59Z');
    expect(checkPatient(input({ birthDate: '2024-06-15' }), lateEveningUtc)).toEqual([]);
    expect(checkPatient(input({ birthDate: '2024-06-16' }), lateEveningUtc)).toHaveLength(1);
  });

  it('lists every blank name, each under its own path', () => {
    expect(checkPatient(input({ givenName: '  ', familyName: '\t' }), TODAY)).toEqual([
      { path: '/body/givenName', message: 'must not be blank' },
      { path: '/body/familyName', message: 'must not be blank' },
    ]);
  });

  it('refuses a condition whose onset precedes the birth date, pointing at that condition', () => {
    const problems = checkPatient(
      input({
        birthDate: '1985-12-10',
        conditions: [
          { code: 'A', display: 'ok', onset: '1985-12-10', status: 'active' },
          { code: 'B', display: 'no onset', status: 'resolved' },
          { code: 'C', display: 'too early', onset: '1985-12-09', status: 'active' },
        ],
      }),
      TODAY,
    );
    expect(problems).toEqual([
      { path: '/body/conditions/2/onset', message: 'must not be before the birth date' },
    ]);
  });

  it('reports several problems at once', () => {
    expect(
      checkPatient(input({ givenName: ' ', birthDate: '2030-01-01' }), TODAY).map((p) => p.path),
    ).toEqual(['/body/birthDate', '/body/givenName']);
  });
});

describe('normalizeInput', () => {
  it('trims the names and keeps every other field as it is', () => {
    const raw = input({ givenName: ' Ada ', familyName: '\tLovelace\n', email: ' kept@example.org ' });
    expect(normalizeInput(raw)).toEqual({ ...raw, givenName: 'Ada', familyName: 'Lovelace' });
  });

  it('leaves absent optional fields absent', () => {
    expect(Object.keys(normalizeInput(input())).sort()).toEqual([
      'birthDate',
      'familyName',
      'givenName',
      'sex',
    ]);
  });
});

describe('writableOf', () => {
  it('keeps the writable fields and drops the server-managed ones', () => {
    const w = writableOf(stored());
    expect(w).not.toHaveProperty('id');
    expect(w).not.toHaveProperty('mrn');
    expect(w).not.toHaveProperty('version');
    expect(w).not.toHaveProperty('createdAt');
    expect(w).toMatchObject({ givenName: 'Ada', status: 'active', phone: '+44 20 7946 0958' });
  });

  it('does not invent optional fields the record lacks', () => {
    const w = writableOf(omit(stored(), 'phone', 'email', 'address'));
    for (const f of ['phone', 'email', 'address', 'emergencyContact', 'insurance'])
      expect(w).not.toHaveProperty(f);
  });
});

describe('applyPatch (RFC 7396 at the top level)', () => {
  it('changes only the fields sent', () => {
    expect(applyPatch(stored(), { givenName: 'Augusta' })).toEqual({
      ...writableOf(stored()),
      givenName: 'Augusta',
    });
  });

  it('removes an optional field sent as null', () => {
    const next = applyPatch(stored(), { phone: null, address: null });
    expect(next).not.toHaveProperty('phone');
    expect(next).not.toHaveProperty('address');
    expect(next.email).toBe('ada@example.org');
  });

  it('empties allergies and conditions sent as null', () => {
    const next = applyPatch(stored(), { allergies: null, conditions: null });
    expect(next.allergies).toEqual([]);
    expect(next.conditions).toEqual([]);
  });

  it('replaces an object value whole', () => {
    const address = { line1: '1 New Road', city: 'Leeds', country: 'GB' };
    expect(applyPatch(stored(), { address }).address).toEqual(address);
  });

  it('changes the status when asked', () => {
    expect(applyPatch(stored(), { status: 'deceased' }).status).toBe('deceased');
  });

  it('does not modify the stored record', () => {
    const current = stored();
    const copy = structuredClone(current);
    applyPatch(current, { phone: null, givenName: 'X' });
    expect(current).toEqual(copy);
  });
});

describe('changedFields', () => {
  it('finds nothing when the next state equals the stored one', () => {
    expect(changedFields(stored(), writableOf(stored()))).toEqual([]);
  });

  it('names each changed field, in the canonical field order', () => {
    const next = {
      ...writableOf(stored()),
      email: 'new@example.org',
      givenName: 'Augusta',
      status: 'inactive' as const,
    };
    expect(changedFields(stored(), next)).toEqual(['givenName', 'email', 'status']);
  });

  it('counts a removed optional field as changed', () => {
    expect(changedFields(stored(), omit(writableOf(stored()), 'phone'))).toEqual(['phone']);
  });

  it('treats absent allergies, conditions and status as empty lists and the current status', () => {
    const next = omit(writableOf(stored({ allergies: [] })), 'allergies', 'conditions', 'status');
    expect(changedFields(stored({ allergies: [] }), next)).toEqual([]);
  });

  it('ignores the order of keys inside objects (the database reorders jsonb keys)', () => {
    const current = stored({
      address: { city: 'London', line1: '12 St James Square', country: 'GB', postalCode: 'SW1Y 4JH' },
      allergies: [{ reaction: 'rash', severity: 'moderate', substance: 'penicillin' }],
    });
    const next = {
      ...writableOf(current),
      address: { line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
      allergies: [{ substance: 'penicillin', reaction: 'rash', severity: 'moderate' as const }],
    };
    expect(changedFields(current, next)).toEqual([]);
  });

  it('notices a change of order inside a list', () => {
    const two = [
      { substance: 'penicillin', severity: 'mild' as const },
      { substance: 'latex', severity: 'severe' as const },
    ];
    const current = stored({ allergies: two });
    expect(changedFields(current, { ...writableOf(current), allergies: [...two].reverse() })).toEqual([
      'allergies',
    ]);
  });

  it('notices a change deep inside an object', () => {
    const current = stored();
    const next = {
      ...writableOf(current),
      address: { ...current.address, city: 'Leeds' } as Patient['address'],
    };
    expect(changedFields(current, next)).toEqual(['address']);
  });
});

describe('MRN', () => {
  it('computes the Luhn check digit', () => {
    expect(luhnDigit('7992739871')).toBe(3);
    expect(luhnDigit('01000001')).toBe(6);
    expect(luhnDigit('00000000')).toBe(0);
  });

  it('formats MRN + 8 digits + check digit', () => {
    expect(formatMrn(1000001)).toBe('MRN010000016');
    expect(formatMrn(1)).toBe(`MRN00000001${luhnDigit('00000001')}`);
    expect(formatMrn(123456789)).toMatch(/^MRN123456789\d$/);
  });

  it('accepts every MRN it formats, in any case', () => {
    for (const seq of [1, 42, 1000001, 9999999, 12345678]) {
      expect(isValidMrn(formatMrn(seq))).toBe(true);
      expect(isValidMrn(formatMrn(seq).toLowerCase())).toBe(true);
    }
  });

  it('catches a mistyped digit and a malformed MRN', () => {
    const mrn = formatMrn(1000001);
    const wrongCheck = mrn.slice(0, -1) + String((Number(mrn.slice(-1)) + 1) % 10);
    expect(isValidMrn(wrongCheck)).toBe(false);
    expect(isValidMrn('MRN01000101' + mrn.slice(-1))).toBe(false);
    expect(isValidMrn('MRN0100')).toBe(false);
    expect(isValidMrn('ABC010000016')).toBe(false);
    expect(isValidMrn('')).toBe(false);
  });
});

describe('nameTokens', () => {
  it('splits on spaces and commas', () => {
    expect(nameTokens('Lovelace, Ada')).toEqual(['Lovelace', 'Ada']);
    expect(nameTokens('  ada   lovelace ')).toEqual(['ada', 'lovelace']);
  });

  it('keeps accents and case: folding is the database’s job', () => {
    expect(nameTokens('JOSÉ Núñez')).toEqual(['JOSÉ', 'Núñez']);
  });

  it('strips LIKE wildcards and backslashes', () => {
    expect(nameTokens('lo%ve_la\\ce')).toEqual(['lovelace']);
    expect(nameTokens('% _ \\')).toEqual([]);
  });

  it('keeps at most four words', () => {
    expect(nameTokens('a b c d e f')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('answers no word for a blank name', () => {
    expect(nameTokens(' , ')).toEqual([]);
  });
});

describe('phoneDigits', () => {
  it('keeps only the digits', () => {
    expect(phoneDigits('+44 (20) 7946-0958')).toBe('442079460958');
    expect(phoneDigits('+44 20 7946 0958')).toBe('442079460958');
  });
});
