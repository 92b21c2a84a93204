import { EventEmitter } from 'node:events';
import { unitsToTake, type Budget, type BudgetTake, type KeyValueStore } from './types.js';

interface Entry {
  value: string;
  expiresAt?: number | undefined;
}

/** The embedded store: one per process, shared by every service in it. */
export class MemoryStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly bus = new EventEmitter();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.bus.setMaxListeners(0);
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    for (const key of this.data.keys()) this.live(key);
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.data.set(key, { value, expiresAt: ttlMs === undefined ? undefined : Date.now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.data.set(key, { value, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async del(key: string): Promise<void> {
    this.data.delete(key);
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    const e = this.live(key);
    if (!e) {
      this.data.set(key, { value: '1', expiresAt: Date.now() + ttlMs });
      return 1;
    }
    const n = Number(e.value) + 1;
    e.value = String(n);
    return n;
  }

  async takeBudget(key: string, budget: Budget): Promise<BudgetTake> {
    const now = Date.now();
    let e = this.live(key);
    if (!e) this.data.set(key, (e = { value: '0', expiresAt: now + budget.windowMs }));
    const used = Number(e.value);
    const granted = unitsToTake(budget, budget.limit - used);
    e.value = String(used + granted);
    return {
      granted,
      remaining: Math.max(0, budget.limit - used - granted),
      resetInMs: Math.max(0, (e.expiresAt ?? now) - now),
    };
  }

  async ttl(key: string): Promise<number | undefined> {
    const e = this.live(key);
    return e?.expiresAt === undefined ? undefined : Math.max(0, e.expiresAt - Date.now());
  }

  async scan(prefix: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const key of [...this.data.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const e = this.live(key);
      if (e) out.set(key, e.value);
    }
    return out;
  }

  async publish(channel: string, message: string): Promise<void> {
    // asynchronous, as over a network
    setImmediate(() => this.bus.emit(channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.bus.on(channel, handler);
    return async () => {
      this.bus.off(channel, handler);
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
    this.data.clear();
  }
}
