import type { EventEnvelope } from '@hms/contracts';
import {
  appendToOutbox,
  createMetrics,
  eventMetricsFor,
  loggerOptions,
  MemoryStore,
  PostgresDb,
  RabbitBus,
  relayDatabase,
  startModule,
  type Db,
  type RunningServiceRuntime,
  type ServiceDeps,
  type ServiceModule,
  type Tx,
} from '@hms/platform';
import { createTestKeys } from '@hms/testkit';
import { destination, pino } from 'pino';
import { registration } from './events.js';

/**
 * The two services of the full path. `emitter` commits a row and its event in one transaction
 * (what every HMS write does); `receiver` consumes the event behind the kit's inbox and keeps a
 * local copy of the patient (what DESIGN.md §5 asks of consumers).
 */
export function emitterService(): ServiceModule & { emit(): Promise<EventEnvelope> } {
  let deps: ServiceDeps | undefined;
  return {
    name: 'emitter',
    migrations: () => [
      {
        name: 'bench/001_admissions.sql',
        sql: `CREATE TABLE admissions (
          id         bigserial PRIMARY KEY,
          patient_id uuid NOT NULL,
          ward       text NOT NULL,
          admitted_at timestamptz NOT NULL DEFAULT now()
        );`,
      },
    ],
    description: 'commits admissions and their events',
    setup(_app, d) {
      deps = d;
    },
    /** One business transaction through the service's own db (the runtime's outbox-notifying view). */
    async emit() {
      if (!deps) throw new Error('emitter not started');
      return admit(deps.db);
    },
  };
}

/**
 * The emitter's business transaction: an admission row and its event, committed together. The
 * row is a write whose answer the service does not read, so it is deferred (`tx.defer`), as a
 * service writes such rows: on PostgreSQL the whole transaction, BEGIN, both INSERTs and COMMIT,
 * is one round trip.
 */
export function admit(db: Db): Promise<EventEnvelope> {
  const event = registration();
  return db.transaction(async (tx) => {
    await tx.defer('INSERT INTO admissions (patient_id, ward) VALUES ($1, $2)', [event.subject, 'A&E']);
    return appendToOutbox(tx, 'patient', event);
  });
}

/**
 * The receiver's effect: its local copy of the patient, newer versions winning. Deferred: it goes
 * out with the inbox transaction's COMMIT.
 */
export async function keepCopy(tx: Tx, envelope: EventEnvelope): Promise<void> {
  const { patient } = envelope.data as { patient: { id: string; version: number } };
  await tx.defer(
    `INSERT INTO patient_copies (id, version, data) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data
     WHERE patient_copies.version < EXCLUDED.version`,
    [patient.id, patient.version, JSON.stringify(patient)],
  );
}

export function receiverService(applied: (tx: Tx, envelope: EventEnvelope) => void): ServiceModule {
  return {
    name: 'receiver',
    migrations: () => [
      {
        name: 'bench/001_patient_copies.sql',
        sql: `CREATE TABLE patient_copies (
          id      uuid PRIMARY KEY,
          version integer NOT NULL,
          data    jsonb NOT NULL
        );`,
      },
    ],
    description: 'keeps a local copy of registered patients',
    setup() {},
    consumers: () => [
      {
        types: ['patient.registered.v1'],
        async handle(tx, envelope) {
          await keepCopy(tx, envelope);
          applied(tx, envelope);
        },
      },
    ],
  };
}

/**
 * A view of `db` that reports when a transaction in which `mark(tx, id)` was called has
 * committed: the moment an event's effect and its inbox row are durable.
 */
export function commitTimes(
  db: Db,
  committed: (id: string) => void,
): { db: Db; mark(tx: Tx, id: string): void } {
  const marked = new WeakMap<Tx, string[]>();
  const view = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
      return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
        let used: Tx | undefined;
        const value = await target.transaction((tx) => {
          used = tx;
          return fn(tx);
        });
        for (const id of (used && marked.get(used)) ?? []) committed(id);
        return value;
      };
    },
  });
  return {
    db: view,
    mark(tx, id) {
      const ids = marked.get(tx);
      if (ids) ids.push(id);
      else marked.set(tx, [id]);
    },
  };
}

export interface BenchService {
  runtime: RunningServiceRuntime;
  bus: RabbitBus;
  close(): Promise<void>;
}

/**
 * Starts a service through the kit's `startModule`, as `runStandalone` does in cluster mode, with every
 * setting at its production default unless given: a PostgresDb pool (`poolMax` is DB_POOL_MAX,
 * default 10), the relay's own connection, a RabbitBus with metrics and the default prefetch and
 * retry policy, the runtime's relay (commit-triggered, 1 s poll), JSON logs at level info (to a
 * file). The one difference: the key-value store is in memory, as Redis takes no part in the
 * event path.
 */
export async function startBenchService(
  mod: ServiceModule,
  opts: {
    databaseUrl: string;
    amqpUrl: string;
    namespace: string;
    logFile: string;
    poolMax?: number;
    view?: (db: Db) => Db;
  },
): Promise<BenchService> {
  // written asynchronously, as createLogger writes stdout
  const logger = pino(loggerOptions(mod.name, 'info'), destination({ dest: opts.logFile, sync: false }));
  const metrics = createMetrics(mod.name, { processMetrics: true });
  const db = new PostgresDb({ url: opts.databaseUrl, schema: mod.name, poolMax: opts.poolMax });
  const relayDb = relayDatabase(opts.databaseUrl, mod.name);
  const bus = await RabbitBus.connect({
    url: opts.amqpUrl,
    logger,
    metrics: eventMetricsFor(metrics.registry),
    namespace: opts.namespace,
  });
  const store = new MemoryStore();
  const keys = await createTestKeys();
  const running = await startModule(mod, {
    db: opts.view ? opts.view(db) : db,
    relayDb,
    bus,
    store,
    jwksUrl: keys.jwksUrl,
    logger,
    metrics,
    listen: false,
  });
  const runtime = running.runtime;
  return {
    runtime,
    bus,
    async close() {
      await running.close();
      await bus.destroy();
      await bus.close();
      await store.close();
      await relayDb.close();
      await db.close();
    },
  };
}
