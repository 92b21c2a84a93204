import type { Interval } from './types.js';

/**
 * Interval helpers over half-open [start, end) epoch-ms intervals. Every helper returns fresh
 * `{ start, end }` objects (extra fields of the input are dropped), sorted by start.
 */

/** Sorted, disjoint union; empty intervals dropped, overlapping or touching ones joined. */
export function merge(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals
    .filter((i) => i.end > i.start)
    .map((i) => ({ start: i.start, end: i.end }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const cur of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && cur.start <= last.end) {
      last.end = Math.max(last.end, cur.end);
    } else {
      out.push(cur);
    }
  }
  return out;
}

/** The parts of `intervals` inside `range`, merged. */
export function clip(intervals: readonly Interval[], range: Interval): Interval[] {
  return merge(
    intervals.map((i) => ({ start: Math.max(i.start, range.start), end: Math.min(i.end, range.end) })),
  );
}

/** `from` minus `remove`: the time covered by `from` and by none of `remove`. O((n + m) log). */
export function subtract(from: readonly Interval[], remove: readonly Interval[]): Interval[] {
  const a = merge(from);
  const b = merge(remove);
  const out: Interval[] = [];
  let j = 0;
  for (const iv of a) {
    // b is sorted and disjoint and so is a: what ends before this interval ends before the next
    while (j < b.length && (b[j] as Interval).end <= iv.start) j++;
    let cur = iv.start;
    for (let k = j; k < b.length && cur < iv.end; k++) {
      const r = b[k] as Interval;
      if (r.start >= iv.end) break;
      if (r.start > cur) out.push({ start: cur, end: r.start });
      cur = Math.max(cur, r.end);
    }
    if (cur < iv.end) out.push({ start: cur, end: iv.end });
  }
  return out;
}

/** The time covered by both `a` and `b`. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const x = merge(a);
  const y = merge(b);
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as Interval;
    const q = y[j] as Interval;
    const start = Math.max(p.start, q.start);
    const end = Math.min(p.end, q.end);
    if (start < end) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

/** True when `candidate` (non-empty) lies wholly inside the union of `intervals`. */
export function covers(intervals: readonly Interval[], candidate: Interval): boolean {
  if (candidate.end <= candidate.start) return false;
  return merge(intervals).some((i) => i.start <= candidate.start && candidate.end <= i.end);
}
