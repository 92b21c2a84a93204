import { setTimeout as sleep } from 'node:timers/promises';
import type { EventEnvelope } from '@hms/contracts';
import {
  appendToOutbox,
  buildEnvelope,
  OutboxRelay,
  uuidv7,
  type Db,
  type EventBus,
  type RetryPolicy,
} from '@hms/platform';
import type { TestBus } from '@hms/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
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
  transactionLog,
  updated,
  waitFor,
  within,
} from './events.fixtures.js';
import { deferred } from './helpers.js';

/** Makes a fresh bus, in a namespace of its own, with the retry policy and prefetch given. */
export type BusMaker = (opts: { retry: RetryPolicy; prefetch: number }) => Promise<TestBus>;

const PREFETCH = 16;

/**
 * The ONE contract both bus adapters are held to (DESIGN.md §5, events/bus.ts): the same tests run
 * against the in-process bus and real RabbitMQ, with a producing service's outbox and a consuming
 * service's inbox in real databases, so business code can never tell which bus runs.
 */
export function describeBusContract(name: string, makeBus: BusMaker): void {
  describe(`EventBus contract: ${name}`, () => {
    let producer: Awaited<ReturnType<typeof serviceDatabase>>;
    let consumer: Awaited<ReturnType<typeof serviceDatabase>>;
    let testBus: TestBus;
    let bus: EventBus;
    let relay: OutboxRelay;
    let db: Db;
    let consumers = 0;
    /** A consuming service name of its own per test: its queue, inbox rows and effects. */
    const consumerName = () => `svc${++consumers}`;

    beforeAll(async () => {
      producer = await serviceDatabase('producer', [producedMigration]);
      consumer = await serviceDatabase('consumer', [effectsMigration]);
      db = consumer.db;
    });
    afterAll(async () => {
      await producer?.close();
      await consumer?.close();
    });
    beforeEach(async () => {
      testBus = await makeBus({ retry: TEST_RETRY, prefetch: PREFETCH });
      bus = testBus.bus;
      relay = new OutboxRelay(producer.db, bus);
    });
    afterEach(async () => {
      await testBus?.close();
    });

    const effectCount = (id: string) =>
      countOf(db, 'SELECT count(*) AS n FROM effects WHERE event_id = $1', [id]);
    const inboxCount = (svc: string, id: string) =>
      countOf(db, 'SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND event_id = $2', [svc, id]);

    test('a rolled-back transaction publishes nothing', async () => {
      const svc = consumerName();
      const c = effectConsumer(db, svc);
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      let appended: EventEnvelope | undefined;
      await expect(
        producer.db.transaction(async (tx) => {
          appended = await appendToOutbox(tx, 'patient', registered());
          await tx.query('INSERT INTO produced (subject, event_id) VALUES ($1, $2)', [
            appended.subject,
            appended.id,
          ]);
          throw new Error('the change was refused');
        }),
      ).rejects.toThrow('the change was refused');
      if (!appended) throw new Error('the event was never appended');
      expect(
        await countOf(producer.db, 'SELECT count(*) AS n FROM outbox WHERE id = $1', [appended.id]),
      ).toBe(0);
      expect(await relay.drain()).toBe(0);
      await sleep(QUIET_MS);
      // an event committed afterwards does arrive: the consumer was listening all along, and the
      // queue is in order, so a rolled-back event that had been published would have come first
      const marker = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      await waitFor('the marker event to be applied', async () => (await effectCount(marker.id)) === 1);
      expect(c.deliveries.map((d) => d.id)).toEqual([marker.id]);
      expect(await effectsOf(db, svc)).toEqual([
        { event_id: marker.id, subject: marker.subject, version: 1 },
      ]);
    });

    test('a committed transaction publishes exactly once', async () => {
      const svc = consumerName();
      const c = effectConsumer(db, svc);
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const event = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      expect(await relay.drain()).toBe(0);
      const { rows } = await producer.db.query<{ published_at: Date | null }>(
        'SELECT published_at FROM outbox WHERE id = $1',
        [event.id],
      );
      expect(rows[0]?.published_at).toBeInstanceOf(Date);
      await waitFor('the effect', async () => (await effectCount(event.id)) === 1);
      await sleep(QUIET_MS); // room for a second delivery, were there one
      expect(c.deliveries.map((d) => d.id)).toEqual([event.id]);
      expect(await effectCount(event.id)).toBe(1);
      expect(await inboxCount(svc, event.id)).toBe(1);
    });

    test('a redelivered event has its effect once', async () => {
      const svc = consumerName();
      const c = effectConsumer(db, svc);
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const event = buildEnvelope('patient', registered());
      await bus.publish([event]);
      await bus.publish([event]);
      await waitFor(
        'both deliveries to be handled',
        () => c.completed.filter((d) => d.id === event.id).length === 2,
      );
      expect(c.deliveries.map((d) => [d.id, d.attempt])).toEqual([
        [event.id, 1],
        [event.id, 1],
      ]);
      expect(await effectCount(event.id)).toBe(1);
      expect(await inboxCount(svc, event.id)).toBe(1);
    });

    test("a poison event lands in the consuming service's DLQ with reason and attempts, later events still flow, and a replay applies it once", async () => {
      const svc = consumerName();
      const poison = uuidv7();
      let fixed = false;
      const c = effectConsumer(db, svc, (envelope) => {
        if (envelope.subject === poison && !fixed) throw new Error('cannot apply this patient');
      });
      await bus.subscribe({
        consumer: svc,
        types: ['patient.registered.v1', 'patient.updated.v1'],
        handler: c.handler,
      });
      const bad = await produce(producer.db, registered(poison));
      const later = [];
      for (let i = 0; i < 3; i++) later.push(await produce(producer.db, registered()));
      expect(await relay.drain()).toBe(4);

      const dead = await waitFor('the poison event in the DLQ', async () => {
        const list = await bus.listDeadLetters(svc);
        return list.length > 0 && list;
      });
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        id: bad.id,
        type: 'patient.registered.v1',
        subject: poison,
        reason: 'Error: cannot apply this patient',
        attempts: TEST_RETRY.maxAttempts,
      });
      expect(dead[0]?.envelope).toEqual(bad);
      expect(Number.isNaN(Date.parse(dead[0]?.deadAt ?? ''))).toBe(false);
      expect(await bus.deadLetterDepth(svc)).toBe(1);
      // listing does not consume: the dead letter is still there
      expect((await bus.listDeadLetters(svc)).map((d) => d.id)).toEqual([bad.id]);
      expect(c.deliveries.filter((d) => d.id === bad.id).map((d) => d.attempt)).toEqual([1, 2, 3]);
      expect(await effectCount(bad.id)).toBe(0);

      // the events behind it were applied, before the poison's last attempt: it never blocked them
      for (const e of later) expect(await effectCount(e.id)).toBe(1);
      const lastPoisonAttempt = c.deliveries.findIndex((d) => d.id === bad.id && d.attempt === 3);
      for (const e of later)
        expect(c.deliveries.findIndex((d) => d.id === e.id)).toBeLessThan(lastPoisonAttempt);

      fixed = true;
      expect(await bus.replayDeadLetters(svc)).toBe(1);
      await waitFor('the replayed event to be applied', async () => (await effectCount(bad.id)) === 1);
      await waitFor('an empty DLQ', async () => (await bus.deadLetterDepth(svc)) === 0);
      expect(await bus.listDeadLetters(svc)).toEqual([]);
      await sleep(QUIET_MS);
      expect(await effectCount(bad.id)).toBe(1);
      expect(await inboxCount(svc, bad.id)).toBe(1);
      expect(c.deliveries.filter((d) => d.id === bad.id).map((d) => d.attempt)).toEqual([1, 2, 3, 1]);
    });

    test('a schema-invalid envelope goes to the DLQ at once, as a PermanentEventError', async () => {
      const svc = consumerName();
      const c = effectConsumer(db, svc);
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const valid = buildEnvelope('patient', registered());
      const broken = {
        ...valid,
        id: uuidv7(),
        data: { patient: { id: valid.subject, birthDate: 'yesterday' } },
      };
      await bus.publish([broken]);
      const dead = await waitFor('the broken event in the DLQ', async () => {
        const list = await bus.listDeadLetters(svc);
        return list.length > 0 && list;
      });
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id: broken.id, subject: valid.subject, attempts: 1 });
      expect(dead[0]?.reason).toMatch(
        /^PermanentEventError: event patient\.registered\.v1 does not match its schema/,
      );
      expect(c.deliveries.map((d) => [d.id, d.attempt])).toEqual([[broken.id, 1]]);
      expect(await effectCount(broken.id)).toBe(0);
      expect(await inboxCount(svc, broken.id)).toBe(0);
    });

    test('answers an empty DLQ for a service that has none, and stays healthy', async () => {
      expect(await bus.deadLetterDepth(`${consumerName()}_never_subscribed`)).toBe(0);
      await bus.ping();
      // and still counts the dead letters of a service that has some
      const svc = consumerName();
      const c = effectConsumer(db, svc);
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const valid = buildEnvelope('patient', registered());
      await bus.publish([{ ...valid, data: {} }]);
      await waitFor('one dead letter', async () => (await bus.deadLetterDepth(svc)) === 1);
      await bus.ping();
    });

    test('a failing-then-succeeding handler is retried and applied once', async () => {
      const svc = consumerName();
      const c = effectConsumer(db, svc, (_envelope, attempt) => {
        if (attempt === 1) throw new Error('a dependency was briefly unavailable');
      });
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const event = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      await waitFor('the retried effect', async () => (await effectCount(event.id)) === 1);
      await sleep(QUIET_MS);
      expect(c.deliveries.map((d) => [d.id, d.attempt])).toEqual([
        [event.id, 1],
        [event.id, 2],
      ]);
      expect(await effectCount(event.id)).toBe(1);
      expect(await bus.deadLetterDepth(svc)).toBe(0);
    });

    test('one event reaches every subscribing service, and not a service subscribed to other types', async () => {
      const base = consumerName();
      const [a, b, other] = [`${base}_a`, `${base}_b`, `${base}_c`];
      const ca = effectConsumer(db, a);
      const cb = effectConsumer(db, b);
      const cother = effectConsumer(db, other);
      await bus.subscribe({ consumer: a, types: ['patient.registered.v1'], handler: ca.handler });
      await bus.subscribe({ consumer: b, types: ['patient.registered.v1'], handler: cb.handler });
      await bus.subscribe({ consumer: other, types: ['patient.updated.v1'], handler: cother.handler });
      const event = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      await waitFor('both services to apply it', async () => (await effectCount(event.id)) === 2);
      // the other service's own type arrives; the registration, published first, never did
      const marker = await produce(producer.db, updated(event.subject, 2));
      expect(await relay.drain()).toBe(1);
      await waitFor(
        'the other service to apply its event',
        async () => (await effectsOf(db, other)).length === 1,
      );
      await sleep(QUIET_MS);
      expect(await effectsOf(db, a)).toEqual([{ event_id: event.id, subject: event.subject, version: 1 }]);
      expect(await effectsOf(db, b)).toEqual([{ event_id: event.id, subject: event.subject, version: 1 }]);
      expect(await effectsOf(db, other)).toEqual([
        { event_id: marker.id, subject: event.subject, version: 2 },
      ]);
      expect(ca.deliveries.map((d) => d.id)).toEqual([event.id]);
      expect(cb.deliveries.map((d) => d.id)).toEqual([event.id]);
      expect(cother.deliveries.map((d) => d.id)).toEqual([marker.id]);
    });

    test('events about one aggregate are applied in order, with several in flight', async () => {
      const svc = consumerName();
      let active = 0;
      let maxActive = 0;
      const c = effectConsumer(db, svc, async (envelope) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        // odd versions take longer: unless one aggregate's events wait for each other, they overtake
        await sleep((envelope.data as { patient: { version: number } }).patient.version % 2 === 1 ? 4 : 0);
        active -= 1;
      });
      await bus.subscribe({ consumer: svc, types: ['patient.updated.v1'], handler: c.handler });
      const subjects = Array.from({ length: 10 }, () => uuidv7());
      for (let i = 0; i < 200; i++) {
        await produce(producer.db, updated(subjects[i % 10] ?? '', Math.floor(i / 10) + 1));
      }
      expect(await relay.drain()).toBe(200);
      await waitFor('200 effects', async () => (await effectsOf(db, svc)).length === 200, 30_000);
      const effects = await effectsOf(db, svc);
      for (const subject of subjects) {
        expect(effects.filter((e) => e.subject === subject).map((e) => e.version)).toEqual(
          Array.from({ length: 20 }, (_, k) => k + 1),
        );
      }
      expect(maxActive).toBeGreaterThan(1); // the order was kept with handlers running concurrently
      expect(maxActive).toBeLessThanOrEqual(PREFETCH);
    });

    test('in a batch where one event fails, only that event is retried and dead-lettered, and the others commit once', async () => {
      const svc = consumerName();
      const poison = uuidv7();
      const first = buildEnvelope('patient', registered());
      const firstOpen = deferred();
      const release = deferred();
      const log = transactionLog();
      // one inbox transaction at a time: while the first event's is held open, the rest queue
      // up and then go into one transaction together
      const c = effectConsumer(db, svc, undefined, {
        inbox: { maxTransactions: 1 },
        during: async (tx, envelope) => {
          log.record(tx, envelope);
          if (envelope.id === first.id) {
            firstOpen.resolve();
            await release.promise;
          }
          if (envelope.subject === poison) throw new Error('cannot apply this patient');
        },
      });
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      await bus.publish([first]);
      await within('the first inbox transaction to open', firstOpen.promise);
      const others = Array.from({ length: 8 }, (_, i) =>
        buildEnvelope('patient', registered(i === 7 ? poison : uuidv7())),
      );
      const bad = others[7] as EventEnvelope;
      await bus.publish(others);
      await waitFor('every event to be delivered', () => c.deliveries.length === 9);
      release.resolve();

      await waitFor('the poison event in the DLQ', async () => (await bus.deadLetterDepth(svc)) === 1);
      // the eight were tried in one transaction, which the last one's failure rolled back
      expect(log.transactions()).toContainEqual(others.map((e) => e.id));
      const dead = await bus.listDeadLetters(svc);
      expect(dead.map((d) => [d.id, d.attempts, d.reason])).toEqual([
        [bad.id, TEST_RETRY.maxAttempts, 'Error: cannot apply this patient'],
      ]);
      await sleep(QUIET_MS);
      // only the poison event was delivered again; every other one once, and applied once
      expect(c.deliveries.filter((d) => d.id === bad.id).map((d) => d.attempt)).toEqual([1, 2, 3]);
      for (const e of [first, ...others.slice(0, 7)]) {
        expect(c.deliveries.filter((d) => d.id === e.id).map((d) => d.attempt)).toEqual([1]);
        expect(await effectCount(e.id)).toBe(1);
        expect(await inboxCount(svc, e.id)).toBe(1);
      }
      expect(await effectCount(bad.id)).toBe(0);
      expect(await inboxCount(svc, bad.id)).toBe(0);
    });

    test('events about one aggregate stay in order when deliveries are grouped into transactions', async () => {
      const svc = consumerName();
      const log = transactionLog();
      const c = effectConsumer(db, svc, undefined, { during: (tx, envelope) => log.record(tx, envelope) });
      await bus.subscribe({ consumer: svc, types: ['patient.updated.v1'], handler: c.handler });
      const subjects = Array.from({ length: 8 }, () => uuidv7());
      const events = [];
      for (let v = 1; v <= 10; v++)
        for (const subject of subjects) events.push(await produce(producer.db, updated(subject, v)));
      expect(await relay.drain()).toBe(80);
      await waitFor('80 effects', async () => (await effectsOf(db, svc)).length === 80, 30_000);
      const effects = await effectsOf(db, svc);
      for (const subject of subjects) {
        expect(effects.filter((e) => e.subject === subject).map((e) => e.version)).toEqual(
          Array.from({ length: 10 }, (_, k) => k + 1),
        );
      }
      // grouping happened, and never put two events of one aggregate in one transaction
      const transactions = log.transactions();
      expect(Math.max(...transactions.map((t) => t.length))).toBeGreaterThan(1);
      const subjectOf = new Map(events.map((e) => [e.id, e.subject]));
      for (const t of transactions) expect(new Set(t.map((id) => subjectOf.get(id))).size).toBe(t.length);
      expect(c.completed).toHaveLength(80);
    });

    test('stopConsuming waits for handlers in flight and takes no new deliveries', async () => {
      const svc = consumerName();
      const entered = deferred();
      const release = deferred();
      const c = effectConsumer(db, svc, async () => {
        entered.resolve();
        await release.promise;
      });
      await bus.subscribe({ consumer: svc, types: ['patient.registered.v1'], handler: c.handler });
      const event = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      await within('the handler to start', entered.promise);
      let stopped = false;
      const stopping = bus.stopConsuming().then(() => {
        stopped = true;
      });
      await sleep(QUIET_MS);
      expect(stopped).toBe(false);
      release.resolve();
      await within('stopConsuming to resolve', stopping);
      // resolved only once the handler's effect had committed
      expect(c.completed.map((d) => d.id)).toEqual([event.id]);
      expect(await effectCount(event.id)).toBe(1);
      const after = await produce(producer.db, registered());
      expect(await relay.drain()).toBe(1);
      await sleep(QUIET_MS);
      expect(c.deliveries.map((d) => d.id)).toEqual([event.id]);
      expect(await effectCount(after.id)).toBe(0);
    });
  });
}
