import { readFile } from 'node:fs/promises';

/**
 * The benchmarks' load generator and CPU accounting (bench/*): nothing here is used by tests.
 */

/**
 * Closed-loop load: `concurrency` workers each send one request, wait for its complete answer,
 * and send the next, until `count` requests are done or `maxMs` has passed. Every request's
 * latency is recorded (nothing sampled, nothing averaged away).
 */

export interface RunResult {
  /** latencies of the completed requests, milliseconds, in completion order */
  latencies: number[];
  wallMs: number;
  /** requests whose answer was empty (a search that found no one) */
  empty: number;
  /** mean number of items (search) or 1 (get) per answer */
  meanItems: number;
  /** stopped by the time bound before `count` requests */
  truncated: boolean;
}

/** One operation: resolves with the number of items answered; throws on any failure. */
export type Operation = (i: number) => Promise<number>;

export async function closedLoop(
  count: number,
  concurrency: number,
  maxMs: number,
  op: Operation,
): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  let items = 0;
  let empty = 0;
  let truncated = false;
  const start = performance.now();
  const deadline = start + maxMs;
  const worker = async () => {
    for (;;) {
      if (next >= count) return;
      if (performance.now() > deadline) {
        truncated = true;
        return;
      }
      const i = next++;
      const t0 = performance.now();
      const n = await op(i);
      latencies.push(performance.now() - t0);
      items += n;
      if (n === 0) empty++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  const wallMs = performance.now() - start;
  return { latencies, wallMs, empty, meanItems: latencies.length ? items / latencies.length : 0, truncated };
}

export interface Stats {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  reqPerSec: number;
  emptyPct: number;
  meanItems: number;
  truncated: boolean;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

export function summarize(r: RunResult): Stats {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    requests: n,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[n - 1] ?? NaN,
    mean: n ? sorted.reduce((a, b) => a + b, 0) / n : NaN,
    reqPerSec: n / (r.wallMs / 1000),
    emptyPct: n ? (100 * r.empty) / n : 0,
    meanItems: r.meanItems,
    truncated: r.truncated,
  };
}

export async function machineTicks(): Promise<{ total: number; busy: number } | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { total, busy: total - (v[3] ?? 0) - (v[4] ?? 0) }; // minus idle and iowait
  } catch {
    return undefined;
  }
}

export async function processTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in the same ticks as /proc/stat
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` and answers which share of the machine's CPU other work took meanwhile: all busy time
 * (from /proc/stat) minus that of `ours()` (this process and its PostgreSQL backends). Figures
 * measured while others took a large share are not the machine's. Undefined where /proc is absent.
 */
export async function othersCpu<T>(
  ours: () => Promise<number[]>,
  fn: () => Promise<T>,
): Promise<{ value: T; othersPct: number | undefined }> {
  const before = new Map<number, number>();
  for (const pid of await ours()) before.set(pid, (await processTicks(pid)) ?? 0);
  const m0 = await machineTicks();
  const value = await fn();
  const m1 = await machineTicks();
  let oursTicks = 0;
  for (const pid of new Set([...before.keys(), ...(await ours())])) {
    const end = await processTicks(pid);
    if (end !== undefined) oursTicks += end - (before.get(pid) ?? 0);
  }
  if (!m0 || !m1 || m1.total === m0.total) return { value, othersPct: undefined };
  const others = Math.max(0, m1.busy - m0.busy - oursTicks) / (m1.total - m0.total);
  return { value, othersPct: Math.round(others * 1000) / 10 };
}

/** A benchmark's integer option (`_` allowed as a separator), refused unless within [min, max]. */
export function intArg(name: string, value: string, min: number, max: number): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
  return n;
}

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
