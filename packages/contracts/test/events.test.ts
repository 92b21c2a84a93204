import { describe, expect, test } from 'vitest';
import { assertValidEvent, dataSchemaUri, EventSchemaError, type Patient } from '@hms/contracts';

const patient: Patient = {
  id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  mrn: 'MRN-000042',
  givenName: 'Ada',
  familyName: 'Lovelace',
  birthDate: '1815-12-10',
  sex: 'female',
  phone: '+44 20 7946 0958',
  email: 'ada@example.org',
  address: { line1: '12 St James Square', city: 'London', country: 'GB' },
  allergies: [{ substance: 'penicillin', severity: 'moderate' }],
  conditions: [],
  status: 'active',
  version: 1,
  createdAt: '2025-01-02T03:04:05.678Z',
  updatedAt: '2025-01-02T03:04:05.678Z',
};

function registered(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: '0190a1b2-c3d4-7e5f-8a6b-000000000001',
    type: 'patient.registered.v1',
    source: '/hms/patient',
    time: '2025-01-02T03:04:05.678Z',
    subject: patient.id,
    dataschema: dataSchemaUri('patient.registered.v1'),
    datacontenttype: 'application/json',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    data: { patient },
    ...overrides,
  };
}

function rejection(envelope: unknown): EventSchemaError {
  try {
    assertValidEvent(envelope);
  } catch (err) {
    expect(err).toBeInstanceOf(EventSchemaError);
    return err as EventSchemaError;
  }
  throw new Error('the event was accepted');
}

describe('assertValidEvent', () => {
  test('accepts a well-formed patient.registered.v1 envelope', () => {
    expect(() => assertValidEvent(registered())).not.toThrow();
    const withoutTrace = registered();
    delete withoutTrace.traceparent;
    expect(() => assertValidEvent(withoutTrace)).not.toThrow();
  });

  test('rejects data of the wrong shape, naming the field', () => {
    const noBirthDate: Record<string, unknown> = { ...patient };
    delete noBirthDate.birthDate;
    const missing = rejection(registered({ data: { patient: noBirthDate } }));
    expect(missing.eventType).toBe('patient.registered.v1');
    expect(missing.problems.map((p) => p.path)).toContain('/data/patient/birthDate');

    const badDate = rejection(registered({ data: { patient: { ...patient, birthDate: '1815-13-45' } } }));
    expect(badDate.problems.map((p) => p.path)).toContain('/data/patient/birthDate');

    const extra = rejection(registered({ data: { patient, ssn: '123-45-6789' } }));
    expect(extra.problems.length).toBeGreaterThan(0);

    const updatedShape = rejection(registered({ data: { patient, changedFields: ['givenName'] } }));
    expect(updatedShape.problems.length).toBeGreaterThan(0);
  });

  test('rejects an unknown event type', () => {
    const err = rejection(registered({ type: 'patient.teleported.v1' }));
    expect(err.problems).toEqual([{ path: '/type', message: 'unknown event type' }]);
    expect(rejection(registered({ type: 'Patient Registered' })).problems.length).toBeGreaterThan(0);
  });

  test('rejects a bad id, time, traceparent or spec version', () => {
    expect(rejection(registered({ id: 'not-a-uuid' })).problems.map((p) => p.path)).toContain('/id');
    expect(rejection(registered({ time: 'yesterday' })).problems.map((p) => p.path)).toContain('/time');
    expect(rejection(registered({ traceparent: 'abc' })).problems.map((p) => p.path)).toContain(
      '/traceparent',
    );
    expect(rejection(registered({ specversion: '0.3' })).problems.map((p) => p.path)).toContain(
      '/specversion',
    );
  });

  test('rejects envelope fields CloudEvents does not define here, and non-objects', () => {
    expect(rejection(registered({ extra: true })).problems.length).toBeGreaterThan(0);
    expect(rejection(null).eventType).toBe('unknown');
    expect(rejection('patient.registered.v1').eventType).toBe('unknown');
  });

  test('the error message names the problems but carries no data values', () => {
    const err = rejection(registered({ data: { patient: { ...patient, birthDate: 'Ada-Lovelace' } } }));
    expect(err.message).toContain('/data/patient/birthDate');
    expect(err.message).not.toContain('Ada');
  });
});
