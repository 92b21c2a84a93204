import type { Patient } from '@hms/contracts';
import { uuidv7, type NewEvent } from '@hms/platform';

/** A registration as the Patient service publishes it: the full record, about 700 bytes. */
export function registration(): NewEvent<'patient.registered.v1'> {
  const id = uuidv7();
  const now = new Date().toISOString();
  const patient: Patient = {
    id,
    mrn: `MRN${id.slice(-10).toUpperCase()}`,
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
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  return { type: 'patient.registered.v1', subject: id, data: { patient } };
}
