import { patientService } from '@hms/patient';
import {
  createMetrics,
  currentContext,
  InProcessBus,
  MemoryStore,
  startModule,
  type App,
  type Db,
  type Logger,
  type QueryOptions,
  type Queryable,
} from '@hms/platform';
import type { TestKeys } from '@hms/testkit';

export interface StartedService {
  app: App;
  /** http://127.0.0.1:port when listening */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the Patient service the way `runStandalone` does, through the kit's `startModule`: the
 * given PostgresDb, the ES256 verifier on a JWKS with the deny-list check, metrics, the registry
 * and load balancer, the runtime (migration check, HTTP server, outbox relay, scheduler), then
 * listen and register. Two adapters differ from a cluster: the bus is the in-process one and the
 * key-value store is in memory (embedded mode's adapters of the same interfaces), so the benchmark
 * declares nothing on a shared RabbitMQ or Redis. Neither is on the path of a read: the deny-list
 * check is a lookup in memory in both modes, and reads publish nothing.
 */
export async function startPatientService(opts: {
  db: Db;
  keys: TestKeys;
  logger: Logger;
  processMetrics: boolean;
  listen: boolean;
}): Promise<StartedService> {
  const store = new MemoryStore();
  const bus = new InProcessBus();
  const running = await startModule(patientService, {
    env: process.env,
    db: opts.db,
    bus,
    store,
    jwksUrl: opts.keys.jwksUrl,
    logger: opts.logger,
    metrics: createMetrics('patient', { processMetrics: opts.processMetrics }),
    listen: opts.listen ? { host: '127.0.0.1', port: 0 } : false,
  });
  return {
    app: running.app,
    url: running.url,
    async close() {
      await running.close();
      await bus.close();
      await store.close();
    },
  };
}

export interface Captured {
  sql: string;
  params: unknown[];
  opts?: QueryOptions | undefined;
}

/**
 * A Db that records every statement run on behalf of an HTTP request (inside a request's work
 * context), and only those: the background jobs' statements are not recorded.
 */
export function recordingDb<D extends Db>(inner: D, log: Captured[]): D {
  const record = (sql: string, params: readonly unknown[] | undefined, opts: QueryOptions | undefined) => {
    if (currentContext()) log.push({ sql, params: [...(params ?? [])], opts });
  };
  const wrap = (q: Queryable): Queryable =>
    new Proxy(q, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'query' || typeof value !== 'function') return value;
        return (sql: string, params?: readonly unknown[], opts?: QueryOptions) => {
          record(sql, params, opts);
          return (value as Queryable['query']).call(target, sql, params, opts);
        };
      },
    });
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'query')
        return (sql: string, params?: readonly unknown[], opts?: QueryOptions) => {
          record(sql, params, opts);
          return (value as Db['query']).call(target, sql, params, opts);
        };
      if (prop === 'transaction')
        return <T>(fn: (tx: Queryable) => Promise<T>) =>
          (value as Db['transaction']).call(target, (tx: Queryable) => fn(wrap(tx)));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
