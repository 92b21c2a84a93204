import type { PatientInput } from '@hms/contracts';

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
