import { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../dependency.js';
import type { Budget, BudgetTake, KeyValueStore } from './types.js';

/**
 * `takeBudget` in one round trip: KEYS[1] the counter; ARGV limit, windowMs, share, maxUnits. The
 * units taken follow `unitsToTake`; the window starts with the first unit taken.
 */
const TAKE_BUDGET = `
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('get', KEYS[1]) or '0')
local left = limit - used
local units = 0
if left > 0 then
  units = math.floor(left * tonumber(ARGV[3]))
  if units > tonumber(ARGV[4]) then units = tonumber(ARGV[4]) end
  if units < 1 then units = 1 end
  if units > left then units = left end
  used = redis.call('incrby', KEYS[1], units)
end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then
  if units > 0 then redis.call('pexpire', KEYS[1], ARGV[2]) end
  ttl = tonumber(ARGV[2])
end
return {units, limit - used, ttl}
`;

type WithTakeBudget = Redis & {
  hmsTakeBudget(key: string, ...args: (string | number)[]): Promise<[number, number, number]>;
};

/**
 * Redis: every key under a prefix (default `hms:`), so several platforms or test runs can share
 * a server. A second connection is opened on first subscribe (Redis pub/sub needs its own).
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  private subscriber?: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(
    url: string,
    private readonly prefix = 'hms:',
  ) {
    // auto-pipelining: the commands issued in one tick (many requests' rate-limit counters) go
    // out in one write and come back in one read
    this.client = new Redis(url, {
      // a Redis that stops answering fails a command after 2 s rather than holding the request
      // that waits for it (rate limits fall back to counting in memory, lookups to their caches)
      commandTimeout: 2000,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      lazyConnect: false,
      enableAutoPipelining: true,
    });
    this.client.on('error', () => undefined); // reconnects on its own; callers see failed commands
    this.client.defineCommand('hmsTakeBudget', { numberOfKeys: 1, lua: TAKE_BUDGET });
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.k(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.client.set(this.k(key), value);
    else await this.client.set(this.k(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(this.k(key), value, 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  async del(key: string): Promise<void> {
    await this.client.del(this.k(key));
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    const results = await this.client
      .multi()
      .incr(this.k(key))
      .pexpire(this.k(key), Math.max(1, Math.round(ttlMs)), 'NX')
      .exec();
    const first = results?.[0];
    if (!first || first[0]) throw first?.[0] ?? new Error('redis INCR failed');
    return Number(first[1]);
  }

  async takeBudget(key: string, budget: Budget): Promise<BudgetTake> {
    if (this.client.status !== 'ready') throw new DependencyUnavailableError('redis');
    const [granted, remaining, resetInMs] = await (this.client as WithTakeBudget).hmsTakeBudget(
      this.k(key),
      budget.limit,
      Math.max(1, Math.round(budget.windowMs)),
      budget.share ?? 0,
      budget.maxUnits ?? 1,
    );
    return { granted, remaining: Math.max(0, remaining), resetInMs: Math.max(0, resetInMs) };
  }

  async ttl(key: string): Promise<number | undefined> {
    const ms = await this.client.pttl(this.k(key));
    return ms < 0 ? undefined : ms;
  }

  async scan(prefix: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${this.k(prefix)}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) {
        const values = await this.client.mget(...keys);
        keys.forEach((key, i) => {
          const v = values[i];
          if (v !== null && v !== undefined) out.set(key.slice(this.prefix.length), v);
        });
      }
    } while (cursor !== '0');
    return out;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.k(channel), message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    if (!this.subscriber) {
      this.subscriber = this.client.duplicate();
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, message: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(message);
      });
    }
    const ch = this.k(channel);
    let set = this.handlers.get(ch);
    if (!set) {
      set = new Set();
      this.handlers.set(ch, set);
      await this.subscriber.subscribe(ch);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0) {
        this.handlers.delete(ch);
        await this.subscriber?.unsubscribe(ch);
      }
    };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
