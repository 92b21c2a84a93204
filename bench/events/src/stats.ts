import { percentile } from '@hms/testkit';

/** Latency figures of one measured phase: every sample kept, nothing averaged away. */
export interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export function latencyOf(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Open loop at a fixed offered rate: `fire(i)` is called when event i is due (t0 + i/rate),
 * whether or not earlier ones have finished, so a slow system shows as latency instead of as a
 * lower rate (no coordinated omission). Answers once every event has been fired.
 */
export async function openLoop(rate: number, seconds: number, fire: (i: number) => void): Promise<void> {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (i < due) fire(i++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
