import { describe, expect, test } from 'vitest';
import { AppError, decodeCursor, encodeCursor, toPage } from '@hms/platform';

function refused(cursor: string, arity: number): AppError {
  try {
    decodeCursor(cursor, arity);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

describe('keyset cursors', () => {
  test('round-trips a sort key', () => {
    const key = ['Lovelace', '0190a1b2-0000-7000-8000-000000000001', 42];
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 3)).toEqual(key);
  });

  test('answers undefined when there is no cursor', () => {
    expect(decodeCursor(undefined, 2)).toBeUndefined();
  });

  test('refuses a tampered, truncated or foreign cursor with a 400 naming the cursor', () => {
    const good = encodeCursor(['2024-01-01', 'id-1']);
    const tampered = [
      good.slice(0, -3), // truncated
      `${good}x`.replace(/^./, '!'), // not base64url JSON any more
      'not-a-cursor',
      '',
      encodeCursor(['only-one']), // another list's cursor (other arity)
      Buffer.from('{"id":1}').toString('base64url'), // an object, not a key
      Buffer.from('[["nested"], 1]').toString('base64url'),
      Buffer.from('[null, 1]').toString('base64url'),
    ];
    for (const cursor of tampered) {
      const err = refused(cursor, 2);
      expect(err.status).toBe(400);
      expect(err.code).toBe('validation_failed');
      expect(err.errors?.map((e) => e.path)).toEqual(['/querystring/cursor']);
    }
  });
});

describe('toPage', () => {
  const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  test('keeps limit items and a cursor to the last one when another page exists', () => {
    const page = toPage(rows, 2, (r) => [r.id]);
    expect(page.items).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(page.nextCursor).not.toBeNull();
    expect(decodeCursor(page.nextCursor ?? undefined, 1)).toEqual(['b']);
  });

  test('answers a null cursor on the last page', () => {
    expect(toPage(rows, 3, (r) => [r.id])).toEqual({ items: rows, nextCursor: null });
    expect(toPage([], 20, (r: { id: string }) => [r.id])).toEqual({ items: [], nextCursor: null });
  });
});
