import type { ApiResponse } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';

const answer = (status: number, body: unknown, type = 'application/problem+json'): ApiResponse => ({
  status,
  headers: new Headers({ 'content-type': type }),
  body,
});
const problem = (extra: Record<string, unknown> = {}) => ({
  type: 'urn:hms:problem:not-found',
  title: 'Not found',
  status: 404,
  ...extra,
});

describe('expectProblem', () => {
  it('answers the problem when everything holds', () => {
    expect(expectProblem(answer(404, problem({ detail: 'no such patient' })), 404).detail).toBe(
      'no such patient',
    );
  });

  it('takes an instant in a message for what it is, not a stack frame', () => {
    const res = answer(404, problem({ detail: 'the lot expired, starting at 2027-03-10T12:01:00.000Z' }));
    expect(expectProblem(res, 404).detail).toContain('2027-03-10T12:01:00.000Z');
  });

  it.each<[string, ApiResponse]>([
    ['another status', answer(400, problem())],
    ['plain JSON', answer(404, problem(), 'application/json')],
    ['a type outside urn:hms:problem', answer(404, problem({ type: 'about:blank' }))],
    ['an empty title', answer(404, problem({ title: '' }))],
    ['a status member that differs', answer(404, problem({ status: 500 }))],
    ['a stack member', answer(404, problem({ stack: 'Error' }))],
    ['a stack frame', answer(404, problem({ detail: 'at handler (/srv/app.js:12:7)' }))],
    ['a bare stack frame', answer(404, problem({ detail: 'at file:///srv/dist/app.js:12:7' }))],
    ['a node-internal frame', answer(404, problem({ detail: 'at node:internal/process/task_queues:95:5' }))],
    ['SQL', answer(404, problem({ detail: 'duplicate key value violates unique constraint' }))],
    ['a relation name', answer(404, problem({ detail: 'relation "patients" does not exist' }))],
  ])('fails on %s', (_what, res) => {
    expect(() => expectProblem(res, 404)).toThrow();
  });
});

describe('expectValidationErrors', () => {
  const invalid = (errors: unknown) =>
    answer(400, {
      type: 'urn:hms:problem:validation-failed',
      title: 'The request is not valid',
      status: 400,
      errors,
    });

  it('answers the errors sorted by path', () => {
    const errors = [
      { path: '/body/b', message: 'must be a string' },
      { path: '/body/a', message: 'is required' },
    ];
    expect(expectValidationErrors(invalid(errors)).map((e) => e.path)).toEqual(['/body/a', '/body/b']);
  });

  it.each([
    ['no errors member', undefined],
    ['an empty list', []],
    ['an error without a message', [{ path: '/body/a', message: '' }]],
  ])('fails on %s', (_what, errors) => {
    expect(() => expectValidationErrors(invalid(errors))).toThrow();
  });
});
