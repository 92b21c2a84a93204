import type { EventEnvelope } from '@hms/contracts';
import { buildEnvelope, eventMetricsFor, uuidv7, type EventHandler } from '@hms/platform';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  countOf,
  effectConsumer,
  effectsMigration,
  effectsOf,
  registered,
  serviceDatabase,
  transactionLog,
  updated,
  within,
} from './events.fixtures.js';
import { deferred } from './helpers.js';

/**
 * The inbox's group commit (events/consumer.ts), driven directly rather than through a bus, so
 * that a batch can hold what a bus never hands it at once (one event twice, one subject twice),
 * on real PostgreSQL with TEST_DATABASE_URL, else PGlite.
 */
describe('inboxHandler group commit', () => {
  let consumer: Awaited<ReturnType<typeof serviceDatabase>>;
  let consumers = 0;
  const consumerName = () => `inbox${++consumers}`;

  beforeAll(async () => {
    consumer = await serviceDatabase('consumer', [effectsMigration]);
  });
  afterAll(async () => {
    await consumer?.close();
  });

  const effectCount = (svc: string, id: string) =>
    countOf(consumer.db, 'SELECT count(*) AS n FROM effects WHERE consumer = $1 AND event_id = $2', [
      svc,
      id,
    ]);
  const inboxCount = (svc: string, id: string) =>
    countOf(consumer.db, 'SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND event_id = $2', [svc, id]);

  /**
   * A consumer that applies one transaction at a time, and a way to hold its first transaction
   * open so that the deliveries made meanwhile are grouped into the next one.
   */
  function gatedConsumer(svc: string, fail?: (envelope: EventEnvelope) => string | undefined) {
    const gate = buildEnvelope('patient', registered());
    const open = deferred();
    const release = deferred();
    const log = transactionLog();
    const registry = new Registry();
    const metrics = eventMetricsFor(registry);
    const c = effectConsumer(consumer.db, svc, undefined, {
      inbox: { maxTransactions: 1, metrics },
      during: async (tx, envelope) => {
        log.record(tx, envelope);
        if (envelope.id === gate.id) {
          open.resolve();
          await release.promise;
        }
        const sql = fail?.(envelope);
        if (sql) await tx.query(sql);
      },
    });
    /** Delivers `batch` while the gate's transaction is open; answers each delivery's outcome. */
    const deliverGrouped = async (batch: readonly EventEnvelope[]) => {
      const first = c.handler(gate, { attempt: 1 });
      await within('the gate transaction to open', open.promise);
      const outcomes = batch.map((e, k) => settle(c.handler(e, { attempt: k + 1 })));
      release.resolve();
      await first;
      return Promise.all(outcomes);
    };
    const duplicates = async () => (await registry.getSingleMetricAsString('events_duplicate_total')) ?? '';
    return { ...c, gate, log, deliverGrouped, duplicates };
  }

  test('a redelivery in the same batch as the first delivery has its effect once', async () => {
    const svc = consumerName();
    const c = gatedConsumer(svc);
    const e = buildEnvelope('patient', registered());
    const other = buildEnvelope('patient', registered());
    const outcomes = await c.deliverGrouped([e, other, e]);
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    // one transaction for the three deliveries, and the repeated event's effect began once in it
    expect(c.log.transactions()).toContainEqual([e.id, other.id]);
    expect(await effectCount(svc, e.id)).toBe(1);
    expect(await inboxCount(svc, e.id)).toBe(1);
    expect(await effectCount(svc, other.id)).toBe(1);
    expect(await c.duplicates()).toMatch(/events_duplicate_total\{[^}]*\} 1$/m);
  });

  test('an event applied before and redelivered within a batch of new ones has its effect once', async () => {
    const svc = consumerName();
    const c = gatedConsumer(svc);
    const old = buildEnvelope('patient', registered());
    await c.handler(old, { attempt: 1 });
    const fresh = [buildEnvelope('patient', registered()), buildEnvelope('patient', registered())];
    const outcomes = await c.deliverGrouped([fresh[0] as EventEnvelope, old, fresh[1] as EventEnvelope]);
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(c.log.transactions()).toContainEqual(fresh.map((e) => e.id));
    for (const e of [old, ...fresh]) {
      expect(await effectCount(svc, e.id)).toBe(1);
      expect(await inboxCount(svc, e.id)).toBe(1);
    }
  });

  test('a database error in one effect rolls the batch back, and only that delivery fails', async () => {
    const svc = consumerName();
    const poison = uuidv7();
    const c = gatedConsumer(svc, (e) => (e.subject === poison ? 'SELECT 1 / 0' : undefined));
    const batch = [
      buildEnvelope('patient', registered()),
      buildEnvelope('patient', registered(poison)),
      buildEnvelope('patient', registered()),
    ];
    const outcomes = await c.deliverGrouped(batch);
    expect(outcomes).toEqual(['ok', 'failed: 22012', 'ok']);
    // tried together first (the transaction stopped at the failing effect), then one by one
    expect(c.log.transactions()).toContainEqual(batch.slice(0, 2).map((e) => e.id));
    expect(await effectCount(svc, batch[0]?.id ?? '')).toBe(1);
    expect(await effectCount(svc, batch[1]?.id ?? '')).toBe(0);
    expect(await inboxCount(svc, batch[1]?.id ?? '')).toBe(0);
    expect(await effectCount(svc, batch[2]?.id ?? '')).toBe(1);
  });

  test('events of one subject handed over together are applied in the order given', async () => {
    const svc = consumerName();
    const c = gatedConsumer(svc);
    const subject = uuidv7();
    const batch = [3, 1, 2].flatMap((v) => [
      buildEnvelope('patient', updated(subject, v)),
      buildEnvelope('patient', updated(uuidv7(), v)),
    ]);
    expect(await c.deliverGrouped(batch)).toEqual(batch.map(() => 'ok'));
    expect(c.log.transactions()).toContainEqual(batch.map((e) => e.id));
    const effects = await effectsOf(consumer.db, svc);
    expect(effects.filter((e) => e.subject === subject).map((e) => e.version)).toEqual([3, 1, 2]);
  });
});

/** 'ok', or 'failed: <database error code or message>'. */
async function settle(delivery: ReturnType<EventHandler>): Promise<string> {
  try {
    await delivery;
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return `failed: ${typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)}`;
  }
}
