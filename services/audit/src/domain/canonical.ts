import { createHash } from 'node:crypto';

/**
 * The canonical form the chain hashes: RFC 8785 (JSON Canonicalization Scheme) for the values a
 * record holds. Object keys sorted by UTF-16 code units (what `Array.prototype.sort` compares), no
 * whitespace, strings escaped as `JSON.stringify` escapes them, numbers in ECMAScript's shortest
 * form (which RFC 8785 adopts). A key whose value is `undefined` or `null` is left out, so a NULL
 * column read back and a field never set hash alike. Non-finite numbers have no JSON form: refused.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  const kind = typeof value;
  switch (kind) {
    case 'undefined':
      return 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('a non-finite number has no canonical JSON form');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError(`a ${kind} has no JSON form`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
