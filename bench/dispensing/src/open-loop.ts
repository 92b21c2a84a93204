/**
 * Open-loop load at a fixed offered rate: request i is due at t0 + i / rate and is sent then,
 * whether or not earlier ones have been answered, and its latency runs from that due time (not
 * from when it was actually sent), so a stall of the system under test, or of this process, shows
 * in the percentiles instead of lowering the rate (no coordinated omission).
 */

export interface OpenLoopResult {
  /** due time → complete answer, of each request answered as expected, ms */
  latencies: number[];
  /** requests due in the run */
  offered: number;
  /** requests answered other than as expected (their latency is not in the percentiles) */
  failures: number;
  /** the first failure's description */
  firstFailure?: string;
  offeredRate: number;
  /** answered as expected per second, over the schedule (or to the last answer, when later) */
  achievedRate: number;
  /** how late this process sent requests after their due time: p99 and max, ms */
  sendLagP99: number;
  sendLagMax: number;
  wallMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openLoop(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<void>,
): Promise<OpenLoopResult> {
  const offered = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const lags: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const t0 = performance.now() + 5;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < offered; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    lags.push(Math.max(0, performance.now() - due));
    inFlight.push(
      send(i).then(
        () => {
          latencies.push(performance.now() - due);
        },
        (err: unknown) => {
          failures++;
          firstFailure ??= err instanceof Error ? err.message : String(err);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const wallMs = performance.now() - t0;
  lags.sort((a, b) => a - b);
  return {
    latencies,
    offered,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    offeredRate: rate,
    achievedRate: latencies.length / (Math.max(wallMs, offered * interval) / 1000),
    sendLagP99: lags[Math.min(lags.length - 1, Math.ceil(0.99 * lags.length) - 1)] ?? NaN,
    sendLagMax: lags[lags.length - 1] ?? NaN,
    wallMs,
  };
}
