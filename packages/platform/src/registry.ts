import type { Logger } from 'pino';
import type { KeyValueStore } from './kv/types.js';

/** One running instance of a service (DESIGN.md §1: registry on Redis with TTL heartbeats). */
export interface ServiceInstance {
  name: string;
  id: string;
  url: string;
  version: string;
  zone: string;
  healthy: boolean;
  startedAt: string;
}

export interface InstanceSource {
  instances(name: string): Promise<ServiceInstance[]>;
  /** The same list when the source holds it fresh in memory (no I/O, no promise); else undefined. */
  cachedInstances?(name: string): ServiceInstance[] | undefined;
}

/**
 * Registry on the key-value store: an instance is a key with a TTL that its heartbeat renews;
 * a missed heartbeat lets it expire, which drops the instance. Redis in cluster mode, memory in
 * embedded mode — the same code.
 */
export class ServiceRegistry implements InstanceSource {
  private readonly ttlMs: number;
  private readonly cache = new Map<string, { at: number; list: ServiceInstance[] }>();
  private readonly heartbeats = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly opts: { ttlMs?: number; cacheMs?: number; logger?: Logger } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
  }

  private key(name: string, id: string): string {
    return `registry:${name}:${id}`;
  }

  /** Registers and keeps the instance alive (heartbeat at a third of the TTL) until deregistered. */
  async register(instance: ServiceInstance, health?: () => Promise<boolean>): Promise<void> {
    const beat = async () => {
      const healthy = health ? await health().catch(() => false) : true;
      await this.store.set(
        this.key(instance.name, instance.id),
        JSON.stringify({ ...instance, healthy }),
        this.ttlMs,
      );
    };
    await beat();
    const timer = setInterval(
      () => {
        beat().catch((err: unknown) => this.opts.logger?.warn({ err }, 'registry heartbeat failed'));
      },
      Math.max(50, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    this.heartbeats.set(this.key(instance.name, instance.id), timer);
  }

  async deregister(instance: Pick<ServiceInstance, 'name' | 'id'>): Promise<void> {
    const key = this.key(instance.name, instance.id);
    clearInterval(this.heartbeats.get(key));
    this.heartbeats.delete(key);
    await this.store.del(key);
  }

  cachedInstances(name: string): ServiceInstance[] | undefined {
    const cached = this.cache.get(name);
    return cached && Date.now() - cached.at < (this.opts.cacheMs ?? 1000) ? cached.list : undefined;
  }

  async instances(name: string): Promise<ServiceInstance[]> {
    const cached = this.cachedInstances(name);
    if (cached) return cached;
    const entries = await this.store.scan(`registry:${name}:`);
    const list = [...entries.values()]
      .map((v) => JSON.parse(v) as ServiceInstance)
      .sort((a, b) => a.id.localeCompare(b.id));
    this.cache.set(name, { at: Date.now(), list });
    return list;
  }

  async stop(): Promise<void> {
    for (const t of this.heartbeats.values()) clearInterval(t);
    this.heartbeats.clear();
  }
}

/**
 * A fixed list from the environment: `<SERVICE>_URL` (comma-separated for several instances),
 * e.g. `PATIENT_URL=http://patient:8080`. In Kubernetes this is the Service's DNS name, and
 * Kubernetes balances behind it.
 */
export class StaticRegistry implements InstanceSource {
  private readonly parsed = new Map<string, { raw: string; list: ServiceInstance[] }>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async instances(name: string): Promise<ServiceInstance[]> {
    return this.cachedInstances(name);
  }

  /** Always known: the list is read from the environment (and parsed once per value). */
  cachedInstances(name: string): ServiceInstance[] {
    const raw = this.env[`${name.toUpperCase()}_URL`];
    if (!raw) return [];
    const seen = this.parsed.get(name);
    if (seen?.raw === raw) return seen.list;
    const list = raw
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean)
      .map((url, i) => ({
        name,
        id: `${name}-static-${i}`,
        url,
        version: 'unknown',
        zone: '',
        healthy: true,
        startedAt: '',
      }));
    this.parsed.set(name, { raw, list });
    return list;
  }
}

/** Tries the registry, then the static list (an explicit `<SERVICE>_URL` is a fallback). */
export class ChainedSource implements InstanceSource {
  constructor(private readonly sources: InstanceSource[]) {}

  async instances(name: string): Promise<ServiceInstance[]> {
    for (const s of this.sources) {
      const list = await s.instances(name);
      if (list.length > 0) return list;
    }
    return [];
  }

  /** Known only when every source it would consult before finding instances answers from memory. */
  cachedInstances(name: string): ServiceInstance[] | undefined {
    for (const s of this.sources) {
      const list = s.cachedInstances?.(name);
      if (list === undefined) return undefined;
      if (list.length > 0) return list;
    }
    return [];
  }
}

/**
 * Client-side load balancing: round-robin over the healthy instances of a service, preferring
 * those in the caller's zone, skipping instances that recently failed a connection.
 */
export class LoadBalancer {
  private readonly counters = new Map<string, number>();
  private readonly down = new Map<string, number>(); // url → until (epoch ms)

  constructor(
    private readonly source: InstanceSource,
    private readonly opts: { zone?: string; downForMs?: number } = {},
  ) {}

  async pick(name: string): Promise<string> {
    return this.choose(name, await this.source.instances(name));
  }

  /**
   * `pick` without a promise, when the source holds the instance list in memory (most calls);
   * undefined when only `pick` can tell. Throws NoInstanceError as `pick` does.
   */
  pickCached(name: string): string | undefined {
    const list = this.source.cachedInstances?.(name);
    return list === undefined ? undefined : this.choose(name, list);
  }

  private choose(name: string, instances: readonly ServiceInstance[]): string {
    const now = Date.now();
    const all = instances.filter((i) => i.healthy && (this.down.get(i.url) ?? 0) <= now);
    const local = this.opts.zone ? all.filter((i) => i.zone === this.opts.zone) : [];
    const pool = local.length > 0 ? local : all;
    if (pool.length === 0) throw new NoInstanceError(name);
    const n = this.counters.get(name) ?? 0;
    this.counters.set(name, n + 1);
    return (pool[n % pool.length] as ServiceInstance).url;
  }

  /** Takes an instance out of rotation for a while after a connection failure. */
  markDown(url: string): void {
    this.down.set(url, Date.now() + (this.opts.downForMs ?? 5000));
  }
}

export class NoInstanceError extends Error {
  constructor(readonly service: string) {
    super(`no healthy instance of ${service}`);
    this.name = 'NoInstanceError';
  }
}
