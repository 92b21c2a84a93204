import { randomBytes } from 'node:crypto';
import type { EventEnvelope } from '@hms/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  appendToOutbox,
  createLogger,
  notifyOnOutboxCommit,
  OutboxRelay,
  runWithContext,
  RabbitBus,
  Scheduler,
  uuidv7,
  type Db,
  type Tx,
} from '@hms/platform';
import { createTestBus, startService, testBrokerUrl, type RunningService, type TestBus } from '@hms/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  countOf,
  effectConsumer,
  effectsMigration,
  effectsOf,
  produce,
  producedMigration,
  QUIET_MS,
  registered,
  serviceDatabase,
  TEST_RETRY,
  testService,
  updated,
  waitFor,
} from './events.fixtures.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * The outbox relay and the service runtime around it, on real databases and (with TEST_AMQP_URL)
 * real RabbitMQ; the broker-outage case needs RabbitMQ and is skipped, with its reason, without it.
 */
const broker = testBrokerUrl();
const logger = createLogger('relay-test', process.env.TEST_LOG_LEVEL ?? 'silent');

let producer: Awaited<ReturnType<typeof serviceDatabase>>;
let consumer: Awaited<ReturnType<typeof serviceDatabase>>;
const cleanups: (() => Promise<void>)[] = [];
let consumers = 0;
const consumerName = () => `relay${++consumers}`;

beforeAll(async () => {
  producer = await serviceDatabase('producer', [producedMigration]);
  consumer = await serviceDatabase('consumer', [effectsMigration]);
});
afterAll(async () => {
  await producer?.close();
  await consumer?.close();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function testBus(): Promise<TestBus> {
  const bus = await createTestBus({ retry: TEST_RETRY });
  cleanups.push(() => bus.close());
  return bus;
}

const pending = () => countOf(producer.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');

describe('OutboxRelay', () => {
  test('publishes rows in seq order, batch after batch, and marks them published', async () => {
    const { bus } = await testBus();
    const svc = consumerName();
    const c = effectConsumer(consumer.db, svc);
    await bus.subscribe({ consumer: svc, types: ['*'], handler: c.handler });
    const subject = uuidv7();
    for (let v = 1; v <= 30; v++) await produce(producer.db, updated(subject, v));
    const relay = new OutboxRelay(producer.db, bus, { batchSize: 7 });
    expect(await relay.drain()).toBe(30);
    const { rows } = await producer.db.query<{ id: string; published_at: Date | null }>(
      'SELECT id, published_at FROM outbox WHERE subject = $1 ORDER BY seq',
      [subject],
    );
    expect(rows).toHaveLength(30);
    for (const r of rows) expect(r.published_at).toBeInstanceOf(Date);
    const times = rows.map((r) => r.published_at?.getTime() ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await waitFor('30 deliveries', () => c.completed.length === 30);
    expect(c.deliveries.map((d) => d.id)).toEqual(rows.map((r) => r.id));
    expect((await effectsOf(consumer.db, svc)).map((e) => e.version)).toEqual(
      Array.from({ length: 30 }, (_, k) => k + 1),
    );
    expect(await relay.backlog()).toBe(0);
  });

  test('publishes each envelope as appendToOutbox stored it, trace context included', async () => {
    const { bus } = await testBus();
    const svc = consumerName();
    const received: EventEnvelope[] = [];
    await bus.subscribe({ consumer: svc, types: ['*'], handler: async (e) => void received.push(e) });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await runWithContext({ requestId: 'r1', traceparent }, () =>
      produce(producer.db, registered()),
    );
    const untraced = await produce(producer.db, updated(uuidv7(), 2));
    expect(traced.traceparent).toBe(traceparent);
    expect(untraced.traceparent).toBeUndefined();
    await new OutboxRelay(producer.db, bus).drain();
    await waitFor('2 deliveries', () => received.length === 2);
    expect(received).toEqual([traced, untraced]);
    expect(received[1]).not.toHaveProperty('traceparent');
  });

  test('two relays on the same database draining at once never publish a row twice', async () => {
    const { bus } = await testBus();
    const svc = consumerName();
    const c = effectConsumer(consumer.db, svc);
    await bus.subscribe({ consumer: svc, types: ['*'], handler: c.handler });
    // two replicas of the producing service: two pools on one PostgreSQL database
    const relays = [
      new OutboxRelay(producer.db, bus, { batchSize: 10 }),
      new OutboxRelay(producer.replica(), bus, { batchSize: 10 }),
    ];
    const total = 300;
    let produced = 0;
    const producing = (async () => {
      while (produced < total) {
        await Promise.all(Array.from({ length: 5 }, () => produce(producer.db, registered())));
        produced += 5;
      }
    })();
    let sent = 0;
    let rounds = 0;
    await waitFor('the outbox to be drained', async () => {
      rounds += 1;
      const counts = await Promise.all([...relays, ...relays].map((r) => r.drain()));
      sent += counts.reduce((a, b) => a + b, 0);
      return produced === total && (await pending()) === 0;
    });
    await producing;
    expect(rounds).toBeGreaterThan(1);
    expect(sent).toBe(total);
    await waitFor(`${total} deliveries`, () => c.completed.length >= total);
    await sleep(QUIET_MS);
    const ids = c.deliveries.map((d) => d.id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(await countOf(consumer.db, 'SELECT count(*) AS n FROM effects WHERE consumer = $1', [svc])).toBe(
      total,
    );
  });

  test('notifyOnOutboxCommit calls back after a commit that wrote the outbox, never after a rollback', async () => {
    // the order of things as the database adapter sees them: a transaction ends when it resolves
    const log: string[] = [];
    const base = producer.db;
    const observed: Db = {
      kind: base.kind,
      schema: base.schema,
      query: <R>(sql: string, params?: readonly unknown[]) => base.query<R>(sql, params),
      exec: (sql) => base.exec(sql),
      async transaction<T>(fn: (tx: Tx) => Promise<T>) {
        try {
          const value = await base.transaction(fn);
          log.push('committed');
          return value;
        } catch (err) {
          log.push('rolled back');
          throw err;
        }
      },
      withLock: (name, fn, opts) => base.withLock(name, fn, opts),
      ping: () => base.ping(),
      close: () => base.close(),
    };
    const other = producer.replica(); // another connection: it sees committed rows only
    let lastId = '';
    const visible: Promise<number>[] = [];
    const db = notifyOnOutboxCommit(observed, () => {
      log.push('notified');
      visible.push(countOf(other, 'SELECT count(*) AS n FROM outbox WHERE id = $1', [lastId]));
    });

    await db.transaction(async (tx) => {
      lastId = (await appendToOutbox(tx, 'patient', registered())).id;
      log.push('appended');
    });
    expect(log).toEqual(['appended', 'committed', 'notified']);
    expect(await Promise.all(visible)).toEqual([1]);

    log.length = 0;
    await expect(
      db.transaction(async (tx) => {
        lastId = (await appendToOutbox(tx, 'patient', registered())).id;
        log.push('appended');
        throw new Error('the change was refused');
      }),
    ).rejects.toThrow('the change was refused');
    expect(await countOf(other, 'SELECT count(*) AS n FROM outbox WHERE id = $1', [lastId])).toBe(0);
    // a transaction without an event, and a plain query, notify nothing either
    await db.transaction((tx) => tx.query('INSERT INTO produced (subject) VALUES ($1)', ['no event']));
    await db.query('SELECT 1');
    expect(log).toEqual(['appended', 'rolled back', 'committed']);
    await new OutboxRelay(producer.db, (await testBus()).bus).drain(); // leave the outbox drained
  });
});

describe('OutboxRelay while the broker is unreachable (RabbitMQ)', () => {
  if (!broker) {
    const reason = 'TEST_AMQP_URL is not set, so there is no RabbitMQ to cut off';
    console.warn(`relay.test.ts broker-outage case skipped: ${reason}`);
    test.skip(`skipped: ${reason}`, () => undefined);
    return;
  }

  test('leaves rows pending while the broker is unreachable and publishes them all once it is back', async () => {
    const proxy = new TcpProxy(hostPort(broker));
    await proxy.start();
    cleanups.push(() => proxy.close());
    const namespace = `test_${randomBytes(4).toString('hex')}`;
    const connect = (url: string) =>
      RabbitBus.connect({
        url,
        logger,
        namespace,
        retry: TEST_RETRY,
        reconnectMinMs: 50,
        reconnectMaxMs: 500,
      });
    const direct = await connect(broker); // the consumer's own connection, not through the proxy
    cleanups.push(async () => {
      await direct.destroy();
      await direct.close();
    });
    const proxied = await connect(proxy.urlFor(broker));
    cleanups.push(() => proxied.close());
    const svc = consumerName();
    const c = effectConsumer(consumer.db, svc);
    await direct.subscribe({ consumer: svc, types: ['*'], handler: c.handler });

    await proxy.cut();
    await waitFor('the bus to notice', async () =>
      proxied.ping().then(
        () => false,
        () => true,
      ),
    );
    const events = [];
    for (let i = 0; i < 20; i++) events.push(await produce(producer.db, registered()));
    const scheduler = new Scheduler(producer.db, logger);
    const relay = new OutboxRelay(producer.db, proxied);
    scheduler.every('outbox-relay', 50, () => relay.drain());
    scheduler.start();
    cleanups.push(() => scheduler.stop());
    await sleep(QUIET_MS); // several relay rounds, each failing
    expect(await pending()).toBe(20);
    expect(c.deliveries).toHaveLength(0);

    await proxy.restore();
    await waitFor('the bus to reconnect', async () =>
      proxied.ping().then(
        () => true,
        () => false,
      ),
    );
    await waitFor('the outbox to drain', async () => (await pending()) === 0);
    await waitFor('20 effects', async () => (await effectsOf(consumer.db, svc)).length === 20);
    await sleep(QUIET_MS);
    const effects = await effectsOf(consumer.db, svc);
    expect(effects.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(proxy.accepted).toBeGreaterThan(1); // the bus reconnected through the restored proxy
  });
});

describe('service runtime', () => {
  let producing: RunningService & { module: ReturnType<typeof testService> };
  let consuming: RunningService;
  let shared: TestBus;

  beforeAll(async () => {
    shared = await createTestBus({ retry: TEST_RETRY });
    const bus = shared.bus;
    const producerModule = testService('emitter');
    // a poll interval far beyond the test: only the commit notification can explain a prompt publish
    const timing = { relayIntervalMs: 600_000 };
    producing = { ...(await startService(producerModule, { bus, timing })), module: producerModule };
    consuming = await startService(testService('receiver', ['patient.registered.v1']), { bus, timing });
  });
  afterAll(async () => {
    await producing?.close();
    await consuming?.close();
    await shared?.close();
  });

  test('a commit through the service db triggers the relay at once, and the consumer applies the event once', async () => {
    const db = producing.module.deps().db;
    await sleep(QUIET_MS); // the runtime's first relay round, at start, is over
    const event = await produce(db, registered());
    await waitFor(
      'the effect in the consuming service',
      async () => (await effectsOf(consuming.db, 'receiver')).length > 0,
    );
    const published = await countOf(
      producing.db,
      'SELECT count(*) AS n FROM outbox WHERE id = $1 AND published_at IS NOT NULL',
      [event.id],
    );
    expect(published).toBe(1);
    await sleep(QUIET_MS);
    expect(await effectsOf(consuming.db, 'receiver')).toEqual([
      { event_id: event.id, subject: event.subject, version: 1 },
    ]);
    expect(
      await countOf(consuming.db, 'SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND event_id = $2', [
        'receiver',
        event.id,
      ]),
    ).toBe(1);
  });
});

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5672) };
}
