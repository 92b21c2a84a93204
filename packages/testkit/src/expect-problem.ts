import { expect } from 'vitest';
import type { Problem, ProblemField } from './problems.js';
import type { ApiResponse } from './service.js';

/**
 * Asserts an RFC 9457 problem: the status, `application/problem+json`, a `urn:hms:problem:…`
 * `type`, a non-empty `title`, a `status` member equal to the status, and nothing that looks like
 * a stack trace or SQL. `what` names the request in a failure message.
 */
export function expectProblem(res: ApiResponse, status: number, what = ''): Problem {
  const said = (check: string) => `${what ? `${what}: ` : ''}${check} in ${JSON.stringify(res.body)}`;
  expect(res.status, said('status')).toBe(status);
  expect(res.headers.get('content-type'), said('content-type')).toMatch(/^application\/problem\+json/);
  const problem = res.body as Problem;
  expect(typeof problem, said('body')).toBe('object');
  expect(typeof problem.type, said('type')).toBe('string');
  expect(problem.type, said('type')).toMatch(/^urn:hms:problem:[a-z-]+$/);
  expect(typeof problem.title, said('title')).toBe('string');
  expect(problem.title.length, said('title')).toBeGreaterThan(0);
  expect(problem.status, said('status member')).toBe(status);
  expect(problem, said('stack')).not.toHaveProperty('stack');
  const text = JSON.stringify(problem);
  // a frame names a file (`at fn (/srv/x.js:1:2)`, `at file:///…:1:2`, `at node:internal/…:1:2`);
  // an instant in a message (`starting at 2027-03-10T12:01:00.000Z`) is not one
  expect(text, said('stack frame')).not.toMatch(
    /\bat (?:[^\s()]+ \()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s()]*:\d+:\d+/,
  );
  expect(text, said('SQL')).not.toMatch(
    /\b(SELECT|INSERT|UPDATE|DELETE FROM|relation|syntax error|violates)\b/,
  );
  return problem;
}

/**
 * Asserts a 400 validation problem with a non-empty `errors: [{path, message}]` and returns the
 * errors sorted by path, for comparison.
 */
export function expectValidationErrors(res: ApiResponse): ProblemField[] {
  const problem = expectProblem(res, 400);
  expect(Array.isArray(problem.errors), JSON.stringify(problem)).toBe(true);
  const errors = problem.errors ?? [];
  expect(errors.length, JSON.stringify(problem)).toBeGreaterThan(0);
  for (const e of errors) {
    expect(typeof e.path, JSON.stringify(e)).toBe('string');
    expect(typeof e.message, JSON.stringify(e)).toBe('string');
    expect(e.message.length, JSON.stringify(e)).toBeGreaterThan(0);
  }
  return [...errors].sort((a, b) => a.path.localeCompare(b.path));
}
