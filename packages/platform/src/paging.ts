import { CommonErrors } from './errors.js';

/**
 * Opaque keyset cursors: the sort key of the last item of a page, base64url-encoded JSON. The
 * client hands it back unchanged; a tampered or foreign cursor answers 400.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

type CursorKey = (string | number)[];

/**
 * Decodes a cursor into its key of `arity` parts; `isValid` checks the parts' kinds (a uuid, a
 * non-negative integer…), so a decodable but foreign or edited cursor is bad input too, never a
 * query the database refuses.
 */
export function decodeCursor(
  cursor: string | undefined,
  arity: number,
  isValid: (key: CursorKey) => boolean = () => true,
): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === arity) {
      const parts = key as unknown[];
      const isPart = (k: unknown): k is string | number =>
        (typeof k === 'string' && !k.includes('\u0000')) || typeof k === 'number';
      if (parts.every(isPart) && isValid(parts)) return parts;
    }
  } catch {
    // fall through
  }
  throw CommonErrors.validation_failed('the cursor is not valid', {
    errors: [{ path: '/querystring/cursor', message: 'is not a cursor this list issued' }],
  });
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says another page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
