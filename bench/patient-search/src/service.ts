import { patientService } from '@hms/patient';
import {
  ChainedSource,
  createMetrics,
  createTokenVerifier,
  currentContext,
  DenyList,
  InProcessBus,
  LoadBalancer,
  MemoryStore,
  registerInstance,
  ServiceRegistry,
  startServiceRuntime,
  StaticRegistry,
  type App,
  type Db,
  type Logger,
  type QueryOptions,
  type Queryable,
} from '@hms/platform';
import { TEST_AUDIENCE, TEST_ISSUER, type TestKeys } from '@hms/testkit';

export interface StartedService {
  app: App;
  /** http://127.0.0.1:port when listening */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the Patient service the way `runStandalone` (platform/service.ts) does: the given
 * PostgresDb, an ES256 verifier on a JWKS with the deny-list check, metrics, the registry and
 * load balancer, `startServiceRuntime` (migration check, HTTP app, outbox relay, scheduler), then
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
  const metrics = createMetrics('patient', { processMetrics: opts.processMetrics });
  const store = new MemoryStore();
  const denyList = new DenyList(store, { logger: opts.logger });
  await denyList.start();
  const registry = new ServiceRegistry(store, { logger: opts.logger });
  const balancer = new LoadBalancer(new ChainedSource([registry, new StaticRegistry({})]));
  const bus = new InProcessBus();
  const verifier = createTokenVerifier({
    jwksUrl: opts.keys.jwksUrl,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    isRevoked: (jti) => denyList.isRevoked(jti),
  });
  const runtime = await startServiceRuntime(patientService, {
    db: opts.db,
    bus,
    store,
    denyList,
    registry,
    balancer,
    verifier,
    logger: opts.logger,
    metrics,
    env: process.env,
  });
  let url = '';
  let instance: Awaited<ReturnType<typeof registerInstance>> | undefined;
  if (opts.listen) {
    await runtime.app.listen({ host: '127.0.0.1', port: 0 });
    const address = runtime.app.server.address();
    if (typeof address !== 'object' || !address) throw new Error('the service did not listen');
    url = `http://127.0.0.1:${address.port}`;
    instance = await registerInstance(registry, 'patient', url);
  }
  return {
    app: runtime.app,
    url,
    async close() {
      if (instance) await registry.deregister(instance);
      await runtime.close();
      await registry.stop();
      await denyList.stop();
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
