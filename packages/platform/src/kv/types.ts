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
