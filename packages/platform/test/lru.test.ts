import { describe, expect, it } from 'vitest';
import { Lru } from '@hms/platform';

describe('the bounded LRU behind the verified-token cache', () => {
  it('forgets the least recently used entry beyond its size', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('keeps nothing when its size is 0', () => {
    const lru = new Lru<string, number>(0);
    lru.set('a', 1);
    expect(lru.get('a')).toBeUndefined();
  });
});
