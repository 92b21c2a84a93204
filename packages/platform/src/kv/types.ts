/**
 * A fixed-window budget, as rate limits count: `limit` units per window of `windowMs`, the window
 * starting at the first take.
 */
export interface Budget {
  limit: number;
  windowMs: number;
  /**
   * How many units one take may reserve at once: this share of what is left (at least 1, at most
   * `maxUnits`), so a caller can spend them without asking again. Absent: one unit per take.
   */
  share?: number | undefined;
  maxUnits?: number | undefined;
}

export interface BudgetTake {
  /** Units granted; 0 when the budget is spent until the window ends. */
  granted: number;
  /** Units left in the window after this take. */
  remaining: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

/** The units one take reserves out of `left` (the rule both stores apply, atomically). */
export function unitsToTake(budget: Budget, left: number): number {
  if (left <= 0) return 0;
  const wanted = Math.floor(left * (budget.share ?? 0));
  return Math.min(left, Math.max(1, Math.min(budget.maxUnits ?? 1, wanted)));
}

/**
 * A small key-value store with TTLs, counters and pub/sub: Redis in cluster mode, memory in
 * embedded mode (DESIGN.md §1: cache, rate limits, revocation, registry). One contract suite
 * runs against both.
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | undefined>;
  /** Sets a value, expiring after `ttlMs` when given. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent; answers whether it did. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Increments a counter; the first increment starts its `ttlMs` window. Answers the new value. */
  incr(key: string, ttlMs: number): Promise<number>;
  /**
   * Takes units from a fixed-window budget, atomically across every client of the store (each
   * take sees the others'). Fails at once, rather than waiting for a reconnect, when the store
   * cannot be reached: a rate limiter must not hold requests up.
   */
  takeBudget(key: string, budget: Budget): Promise<BudgetTake>;
  /** Milliseconds until the key expires; undefined when absent or without expiry. */
  ttl(key: string): Promise<number | undefined>;
  /** Every live key starting with `prefix`, with its value. */
  scan(prefix: string): Promise<Map<string, string>>;
  publish(channel: string, message: string): Promise<void>;
  /** Answers a function that unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
