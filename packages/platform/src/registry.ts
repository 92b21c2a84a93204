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

/** Called back with a service's instances, or with why they could not be read. */
export type InstancesCallback = (err: Error | null, list?: readonly ServiceInstance[]) => void;

export interface InstanceSource {
  /**
   * Hands over the instances of a service: at once (no promise, no later tick) when the source
   * holds the list fresh in memory, else once read.
   */
  withInstances(name: string, use: InstancesCallback): void;
}

/** A source's instances as a promise, for callers off the request path. */
export function instancesOf(source: InstanceSource, name: string): Promise<readonly ServiceInstance[]> {
  return new Promise((resolve, reject) =>
    source.withInstances(name, (err, list) => (err ? reject(err) : resolve(list ?? []))),
  );
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

  /** From memory while the list read last is younger than `cacheMs`, else read from the store. */
  withInstances(name: string, use: InstancesCallback): void {
    const cached = this.cache.get(name);
    if (cached && Date.now() - cached.at < (this.opts.cacheMs ?? 1000)) return use(null, cached.list);
    this.store.scan(`registry:${name}:`).then(
      (entries) => {
        const list = [...entries.values()]
          .map((v) => JSON.parse(v) as ServiceInstance)
          .sort((a, b) => a.id.localeCompare(b.id));
        this.cache.set(name, { at: Date.now(), list });
        use(null, list);
      },
      (err: unknown) => use(err instanceof Error ? err : new Error(String(err))),
    );
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

  /** Always at once: the list is read from the environment (and parsed once per value). */
  withInstances(name: string, use: InstancesCallback): void {
    use(null, this.list(name));
  }

  private list(name: string): ServiceInstance[] {
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

  /** The first source that has instances answers; at once when each it consults answers at once. */
  withInstances(name: string, use: InstancesCallback, from = 0): void {
    const source = this.sources[from];
    if (!source) return use(null, []);
    source.withInstances(name, (err, list) => {
      if (err) return use(err);
      if (list && list.length > 0) return use(null, list);
      this.withInstances(name, use, from + 1);
    });
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

  /**
   * Calls back with the URL of the instance to call (or `NoInstanceError`): at once when the
   * source holds the instance list in memory (most calls), else once it is read.
   */
  pickThen(name: string, use: (err: Error | null, url?: string) => void): void {
    this.source.withInstances(name, (err, list) => {
      if (err) return use(err);
      let url: string;
      try {
        url = this.choose(name, list ?? []);
      } catch (refused) {
        return use(refused as Error);
      }
      use(null, url);
    });
  }

  /** `pickThen` as a promise, for callers off the request path. */
  pick(name: string): Promise<string> {
    return new Promise((resolve, reject) =>
      this.pickThen(name, (err, url) => (err ? reject(err) : resolve(url as string))),
    );
  }

  /**
   * The one rule of which instance is called: healthy and not marked down, in the caller's zone
   * when there are any there, round-robin among them.
   */
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
