import { describe, expect, test } from 'vitest';
import { clip, covers, intersect, merge, subtract } from '@hms/scheduling';

const i = (start: number, end: number) => ({ start, end });

describe('interval helpers', () => {
  test('merge sorts, joins overlapping and touching intervals, and drops empty ones', () => {
    expect(merge([i(10, 20), i(0, 5), i(5, 7), i(15, 30), i(40, 40), i(50, 45)])).toEqual([
      i(0, 7),
      i(10, 30),
    ]);
  });

  test('merge returns plain {start, end} objects without extra fields', () => {
    expect(merge([{ start: 1, end: 2, bufferBeforeMin: 5 } as never])).toEqual([i(1, 2)]);
  });

  test('clip keeps only the parts inside the range', () => {
    expect(clip([i(0, 10), i(20, 30), i(40, 50)], i(5, 45))).toEqual([i(5, 10), i(20, 30), i(40, 45)]);
    expect(clip([i(0, 10)], i(10, 20))).toEqual([]);
  });

  test('subtract removes holes, edges and whole intervals, and a remover spanning several intervals', () => {
    expect(subtract([i(0, 100)], [i(10, 20), i(30, 40)])).toEqual([i(0, 10), i(20, 30), i(40, 100)]);
    expect(subtract([i(0, 10), i(20, 30), i(40, 50)], [i(5, 45)])).toEqual([i(0, 5), i(45, 50)]);
    expect(subtract([i(0, 10)], [i(0, 10)])).toEqual([]);
    expect(subtract([i(0, 10)], [i(-5, 3), i(8, 20)])).toEqual([i(3, 8)]);
    expect(subtract([i(0, 10)], [])).toEqual([i(0, 10)]);
    expect(subtract([i(10, 20)], [i(0, 5), i(25, 30)])).toEqual([i(10, 20)]);
  });

  test('subtract accepts unsorted, overlapping input on both sides', () => {
    expect(subtract([i(20, 30), i(0, 15), i(10, 22)], [i(12, 14), i(13, 16), i(29, 40)])).toEqual([
      i(0, 12),
      i(16, 29),
    ]);
  });

  test('intersect keeps the time covered by both sides', () => {
    expect(intersect([i(0, 10), i(20, 30)], [i(5, 25)])).toEqual([i(5, 10), i(20, 25)]);
    expect(intersect([i(0, 10)], [i(10, 20)])).toEqual([]);
  });

  test('covers answers whether a candidate lies wholly inside the union', () => {
    expect(covers([i(0, 10), i(10, 20)], i(5, 15))).toBe(true);
    expect(covers([i(0, 10), i(11, 20)], i(5, 15))).toBe(false);
    expect(covers([i(0, 10)], i(5, 5))).toBe(false);
  });
});
