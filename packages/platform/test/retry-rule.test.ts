import { describe, expect, test } from 'vitest';
import { backoffMs, nextTry, type TryOutcome } from '@hms/platform';

/** An error as Node and undici raise them: the code on the error or on its cause. */
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const closed = new Error('other side closed', { cause: { code: 'UND_ERR_SOCKET' } });
const unknown = new Error('something else');

const base: TryOutcome = { attempt: 1, retries: 2, retryable: true, remainingMs: 5000 };
/** A random source fixed at its middle: backoff is then 3/4 of its cap. */
const half = () => 0.5;

describe('the retry rule (ADR 0020)', () => {
  test('a refused connection marks the instance down and goes again at once', () => {
    expect(nextTry({ ...base, error: refused }, half)).toEqual({
      again: true,
      delayMs: 0,
      markDown: true,
      reason: 'ECONNREFUSED',
    });
  });

  test('a broken connection goes again after a backoff, leaving the instance in rotation', () => {
    expect(nextTry({ ...base, error: reset }, half)).toEqual({
      again: true,
      delayMs: 38, // 50 ms cap on the first retry: 25 + 0.5 × 25, rounded
      markDown: false,
      reason: 'ECONNRESET',
    });
    expect(nextTry({ ...base, error: closed }, half)).toMatchObject({
      again: true,
      reason: 'UND_ERR_SOCKET',
    });
  });

  test('502, 503 and 504 go again unless the answer says when to come back', () => {
    for (const status of [502, 503, 504])
      expect(nextTry({ ...base, status }, half)).toEqual({
        again: true,
        delayMs: 38,
        markDown: false,
        reason: String(status),
      });
    expect(nextTry({ ...base, status: 503, saysWhen: true }, half).again).toBe(false);
  });

  test('an answer that is not a failure, or an error of another kind, is final', () => {
    for (const status of [200, 201, 400, 404, 409, 429, 500])
      expect(nextTry({ ...base, status }, half).again).toBe(false);
    expect(nextTry({ ...base, error: unknown }, half)).toMatchObject({ again: false, markDown: false });
  });

  test('a request that may not be sent again never is, though a refusal still marks the instance', () => {
    expect(nextTry({ ...base, retryable: false, error: refused }, half)).toMatchObject({
      again: false,
      markDown: true,
    });
    expect(nextTry({ ...base, retryable: false, status: 503 }, half).again).toBe(false);
  });

  test('no try beyond the retries allowed', () => {
    expect(nextTry({ ...base, attempt: 2, error: refused }, half).again).toBe(true);
    expect(nextTry({ ...base, attempt: 3, error: refused }, half).again).toBe(false);
    expect(nextTry({ ...base, retries: 0, error: refused }, half).again).toBe(false);
  });

  test('no pause that would end past the deadline', () => {
    expect(nextTry({ ...base, status: 503, remainingMs: 39 }, half).again).toBe(true);
    expect(nextTry({ ...base, status: 503, remainingMs: 38 }, half)).toMatchObject({
      again: false,
      delayMs: 0,
    });
    expect(nextTry({ ...base, error: refused, remainingMs: 1 }, half).again).toBe(true);
    expect(nextTry({ ...base, error: refused, remainingMs: 0 }, half).again).toBe(false);
  });

  test('backoff doubles from 50 ms to a 1 s cap, jittered over the upper half', () => {
    // caps: 50, 100, 200, 400, 800, 1000, 1000
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, low))).toEqual([25, 50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, high))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000,
    ]);
  });
});
