import { CommonErrors } from '../errors.js';

/** Strong entity tag of a resource version (RFC 9110 §8.8.3). */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/**
 * Reads `If-Match` for an update: 428 when absent, 400 when unreadable. Answers the version the
 * client last saw, or `'*'` for "any current version".
 */
export function requireIfMatch(header: string | undefined): number | '*' {
  if (header === undefined || header.trim() === '')
    throw CommonErrors.precondition_required('send If-Match with the ETag of the version you read');
  const value = header.trim();
  if (value === '*') return '*';
  const m = /^"v(\d{1,9})"$/.exec(value);
  if (!m) throw CommonErrors.precondition_failed('If-Match does not name a version of this resource');
  return Number(m[1]);
}

/** 412 unless the current version is the one the client expects. */
export function checkVersion(expected: number | '*', current: number): void {
  if (expected !== '*' && expected !== current) {
    throw CommonErrors.precondition_failed('the resource has changed since it was read; read it again', {
      extensions: { currentETag: etagOf(current) },
    });
  }
}
