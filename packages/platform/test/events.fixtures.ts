import { setTimeout as sleep } from 'node:timers/promises';
import type { EventEnvelope, EventType, Patient } from '@hms/contracts';
import {
  appendToOutbox,
  inboxHandler,
  kitMigrations,
  migrate,
  PostgresDb,
  uuidv7,
  type Db,
  type EventHandler,
  type InboxOptions,
  type Migration,
  type NewEvent,
  type ServiceDeps,
  type ServiceModule,
  type Tx,
} from '@hms/platform';
import { createTestDatabase, type TestDatabase } from '@hms/testkit';

/** Shared pieces of the event backbone tests: events, databases, effects and bounded waits. */

/** Short retry delays, so retries and dead-lettering happen within a test. */
export const TEST_RETRY = { maxAttempts: 3, delaysMs: [50, 100] } as const;

/** A valid Patient as the Patient service publishes it; `version` carries a sequence number. */
export function patientOf(id: string, version = 1): Patient {
  const now = new Date().toISOString();
  return {
    id,
    mrn: `MRN${id.slice(-8).toUpperCase()}`,
    givenName: 'Ada',
    familyName: 'Lovelace',
    birthDate: '1985-12-10',
    sex: 'female',
    allergies: [],
    conditions: [],
    status: 'active',
    version,
    createdAt: now,
    updatedAt: now,
  };
}

export function registered(subject = uuidv7()): NewEvent<'patient.registered.v1'> {
  return { type: 'patient.registered.v1', subject, data: { patient: patientOf(subject) } };
}

export function updated(subject: string, version: number): NewEvent<'patient.updated.v1'> {
  return {
    type: 'patient.updated.v1',
    subject,
    data: { patient: patientOf(subject, version), changedFields: ['givenName'] },
  };
}

/** The effect a consumer applies: one row per application, so a duplicate would show as two. */
export const effectsMigration: Migration = {
  name: 'test/001_effects.sql',
  sql: `CREATE TABLE effects (
    applied    bigserial PRIMARY KEY,
    consumer   text NOT NULL,
    event_id   uuid NOT NULL,
    subject    text NOT NULL,
    version    integer NOT NULL
  );`,
};

/** What a producing service writes in the transaction that also appends the event. */
export const producedMigration: Migration = {
  name: 'test/001_produced.sql',
  sql: 'CREATE TABLE produced (id bigserial PRIMARY KEY, subject text NOT NULL, event_id uuid);',
};

/** Applies `handle`'s effect: a row in `effects`, inside the inbox transaction. */
export async function recordEffect(tx: Tx, consumer: string, envelope: EventEnvelope): Promise<void> {
  const version = (envelope.data as { patient: { version: number } }).patient.version;
  await tx.query('INSERT INTO effects (consumer, event_id, subject, version) VALUES ($1, $2, $3, $4)', [
    consumer,
    envelope.id,
    envelope.subject,
    version,
  ]);
}

/**
 * An inbox-backed consumer whose effect is `recordEffect`, counting every delivery it is given.
 * `before` runs ahead of the inbox; `opts.during` inside the inbox transaction, before the effect
 * (a throw there fails the transaction, and with it the batch it is part of).
 */
export function effectConsumer(
  db: Db,
  consumer: string,
  before?: (envelope: EventEnvelope, attempt: number) => Promise<void> | void,
  opts: {
    during?: (tx: Tx, envelope: EventEnvelope) => Promise<void> | void;
    inbox?: Pick<InboxOptions, 'maxBatch' | 'maxTransactions' | 'metrics'>;
  } = {},
): { handler: EventHandler; deliveries: Delivery[]; completed: Delivery[] } {
  const deliveries: Delivery[] = [];
  const completed: Delivery[] = [];
  const inner = inboxHandler({
    db,
    consumer,
    ...opts.inbox,
    handle: async (tx, envelope) => {
      await opts.during?.(tx, envelope);
      await recordEffect(tx, consumer, envelope);
    },
  });
  return {
    deliveries,
    completed,
    handler: async (envelope, info) => {
      const delivery = { id: envelope.id, subject: envelope.subject, attempt: info.attempt };
      deliveries.push(delivery);
      await before?.(envelope, info.attempt);
      await inner(envelope, info);
      completed.push(delivery);
    },
  };
}

export interface Delivery {
  id: string;
  subject: string;
  attempt: number;
}

/** Commits a produced row and its event in one transaction, as a service does. */
export async function produce<T extends EventType>(db: Db, event: NewEvent<T>): Promise<EventEnvelope> {
  return db.transaction(async (tx) => {
    const envelope = await appendToOutbox(tx, 'patient', event);
    await tx.query('INSERT INTO produced (subject, event_id) VALUES ($1, $2)', [event.subject, envelope.id]);
    return envelope;
  });
}

export async function effectsOf(
  db: Db,
  consumer: string,
): Promise<{ event_id: string; subject: string; version: number }[]> {
  const { rows } = await db.query<{ event_id: string; subject: string; version: number }>(
    'SELECT event_id, subject, version FROM effects WHERE consumer = $1 ORDER BY applied',
    [consumer],
  );
  return rows;
}

export async function countOf(db: Db, sql: string, params: readonly unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql, params);
  return rows[0]?.n ?? -1;
}

/**
 * Polls `probe` until it answers something other than undefined/false, failing with `what` when
 * the deadline passes. Every wait in these tests is bounded; none asserts speed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Settles `promise` within `timeoutMs` or fails naming `what`. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The transactions an inbox ran, each as the ids whose effect it began, in order: shows which
 * deliveries were grouped into one commit.
 */
export function transactionLog(): {
  record(tx: Tx, envelope: EventEnvelope): void;
  transactions(): string[][];
} {
  const byTx = new Map<Tx, string[]>();
  return {
    record(tx, envelope) {
      const ids = byTx.get(tx) ?? [];
      ids.push(envelope.id);
      byTx.set(tx, ids);
    },
    transactions: () => [...byTx.values()],
  };
}

/** How long a test watches for something that must NOT happen before it checks. */
export const QUIET_MS = 400;

/**
 * A service database with the kit's tables and the test tables (real PostgreSQL when
 * TEST_DATABASE_URL is set, else PGlite). `replica()` opens another handle on the same database,
 * as a second replica of the service would: a second pool on PostgreSQL; on PGlite, where every
 * service of the process shares one instance and its advisory locks, the same handle.
 */
export async function serviceDatabase(
  schema: string,
  extra: Migration[] = [],
): Promise<TestDatabase & { replica(poolMax?: number): Db }> {
  const database = await createTestDatabase(schema);
  await migrate(database.db, [...kitMigrations(), ...extra]);
  const replicas: Db[] = [];
  return {
    ...database,
    replica(poolMax = 5) {
      if (!database.url) return database.db;
      const db = new PostgresDb({ url: database.url, schema, poolMax });
      replicas.push(db);
      return db;
    },
    async close() {
      for (const r of replicas) await r.close();
      await database.close();
    },
  };
}

/**
 * A minimal service for the runtime tests: the kit's HTTP server and nothing else, a producer
 * (its `produced` table) and, given `consumes`, a consumer whose effect is `recordEffect`.
 * `deps` answers what the runtime handed to `build` (its outbox-notifying db among them).
 */
export function testService(
  name: string,
  consumes?: readonly EventType[],
): ServiceModule & { deps(): ServiceDeps } {
  let built: ServiceDeps | undefined;
  return {
    name,
    description: 'a producer and consumer of test events',
    migrations: () => [producedMigration, { ...effectsMigration, name: 'test/002_effects.sql' }],
    setup(_app, deps) {
      built = deps;
    },
    ...(consumes
      ? {
          consumers: () => [
            { types: consumes, handle: (tx: Tx, e: EventEnvelope) => recordEffect(tx, name, e) },
          ],
        }
      : {}),
    deps() {
      if (!built) throw new Error(`${name} was not built`);
      return built;
    },
  };
}
