import { describe, expect, test } from 'vitest';
import { AppError, CommonErrors, defineErrors, problemType, toProblem } from '@hms/platform';

describe('error catalogue and problem details', () => {
  const Errors = defineErrors({
    double_booking: { status: 409, title: 'The doctor is already booked at that time' },
  });

  test('a catalogue builds AppErrors carrying code, status and title', () => {
    const err = Errors.double_booking('overlaps another appointment', {
      extensions: { conflictingAppointmentId: 'a-1' },
    });
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: 'double_booking',
      status: 409,
      detail: 'overlaps another appointment',
    });
    expect(err.message).toBe('overlaps another appointment');
    expect(Errors.specs.double_booking.status).toBe(409);
  });

  test('toProblem answers RFC 9457 fields, extensions and the instance', () => {
    const err = Errors.double_booking('overlaps another appointment', {
      extensions: { conflictingAppointmentId: 'a-1' },
    });
    expect(toProblem(err, '/api/v1/appointments')).toEqual({
      type: 'urn:hms:problem:double-booking',
      title: 'The doctor is already booked at that time',
      status: 409,
      code: 'double_booking',
      detail: 'overlaps another appointment',
      instance: '/api/v1/appointments',
      conflictingAppointmentId: 'a-1',
    });
  });

  test('omits detail, instance and errors when there are none', () => {
    expect(toProblem(CommonErrors.internal())).toEqual({
      type: 'urn:hms:problem:internal',
      title: 'Internal server error',
      status: 500,
      code: 'internal',
    });
  });

  test('carries validation errors and headers', () => {
    const err = CommonErrors.validation_failed('bad', {
      errors: [{ path: '/body/birthDate', message: 'must be a date' }],
    });
    expect(toProblem(err).errors).toEqual([{ path: '/body/birthDate', message: 'must be a date' }]);
    expect(CommonErrors.rate_limited(undefined, { headers: { 'retry-after': '3' } }).headers).toEqual({
      'retry-after': '3',
    });
  });

  test('an extension cannot override the standard members', () => {
    const err = Errors.double_booking(undefined, {
      extensions: { status: 200, type: 'x', title: 'y', code: 'z' },
    });
    expect(toProblem(err)).toMatchObject({
      status: 409,
      type: 'urn:hms:problem:double-booking',
      title: 'The doctor is already booked at that time',
      code: 'double_booking',
    });
  });

  test('every common error has a 4xx or 5xx status and a title', () => {
    for (const [code, spec] of Object.entries(CommonErrors.specs)) {
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.title.length).toBeGreaterThan(0);
      expect(problemType(code)).toMatch(/^urn:hms:problem:[a-z0-9-]+$/);
    }
  });
});
