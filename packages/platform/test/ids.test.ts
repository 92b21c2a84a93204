import { describe, expect, test } from 'vitest';
import { isUuid, uuidv7 } from '@hms/platform';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  test('has the RFC 9562 layout: version nibble 7, variant 10', () => {
    for (let i = 0; i < 200; i++) {
      const id = uuidv7();
      expect(id).toMatch(V7);
      expect(id[14]).toBe('7');
      expect(isUuid(id)).toBe(true);
    }
  });

  test('starts with the current Unix time in milliseconds', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(millisOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(id)).toBeLessThanOrEqual(after);
  });

  test('is strictly increasing within one millisecond, even past the 12-bit counter', () => {
    const now = Date.now() + 60_000; // a millisecond no earlier call used
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(millisOf(ids[0] ?? '')).toBe(now);
    for (const id of ids) expect(id).toMatch(V7);
  });

  test('never goes backwards when the clock does', () => {
    const later = uuidv7(Date.now() + 120_000);
    const earlier = uuidv7(Date.now());
    expect(earlier > later).toBe(true);
  });

  test('isUuid refuses what is not a UUID', () => {
    for (const v of [
      '',
      'not-a-uuid',
      '0190a1b2-0000-7000-8000-00000000000',
      '0190a1b2x0000-7000-8000-000000000000',
    ])
      expect(isUuid(v)).toBe(false);
  });
});
