import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, RabbitBus } from '@hms/platform';
import { startService, testBrokerUrl, type RunningService } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countOf, produce, registered, TEST_RETRY, testService, waitFor } from './events.fixtures.js';
import { TcpProxy } from './tcp-proxy.js';

// Unset TEST_AMQP_URL skips this file locally; under CI=true testBrokerUrl() throws instead.
const broker = testBrokerUrl();

if (!broker) {
  const reason = 'TEST_AMQP_URL is not set, so there is no RabbitMQ to cut off';
  console.warn(`outage.test.ts skipped: ${reason}`);
  describe('broker outage', () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
} else {
  describeOutage(broker);
}

/**
 * Two services on real RabbitMQ, each with its own connection through a TCP proxy, and real
 * databases. While the producer commits events, the proxy drops every connection and refuses new
 * ones for about two seconds, then comes back on the same port: every committed event must still
 * have its effect exactly once, and both buses must have reconnected on their own.
 */
function describeOutage(url: string): void {
  describe('broker outage', () => {
    const logger = createLogger('outage-test', process.env.TEST_LOG_LEVEL ?? 'silent');
    const upstream = new URL(url);
    const proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5672) });
    const namespace = `test_${randomBytes(4).toString('hex')}`;
    const emitter = testService('emitter');
    let producerBus: RabbitBus;
    let consumerBus: RabbitBus;
    let producing: RunningService;
    let consuming: RunningService;

    beforeAll(async () => {
      await proxy.start();
      const connect = () =>
        RabbitBus.connect({
          url: proxy.urlFor(url),
          logger,
          namespace,
          retry: TEST_RETRY,
          reconnectMinMs: 50,
          reconnectMaxMs: 500,
        });
      producerBus = await connect();
      consumerBus = await connect();
      // the runtime's relay: triggered by each commit, and polling every 100 ms besides
      producing = await startService(emitter, { bus: producerBus, timing: { relayIntervalMs: 100 } });
      consuming = await startService(testService('receiver', ['patient.registered.v1']), {
        bus: consumerBus,
      });
    });
    afterAll(async () => {
      await producing?.close();
      await consuming?.close();
      await proxy.restore();
      await consumerBus?.destroy();
      await consumerBus?.close();
      await producerBus?.close();
      await proxy.close();
    });

    test('every event committed across a broker outage has its effect exactly once, and the buses reconnect', async () => {
      const db = emitter.deps().db; // the service's db: its commits trigger the relay
      const committed: string[] = [];
      let stop = false;
      const workers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          committed.push((await produce(db, registered())).id);
          await sleep(5);
        }
      });
      const acceptedBefore = proxy.accepted;

      await sleep(1000);
      const beforeCut = committed.length;
      await proxy.cut();
      await waitFor('both buses to lose the broker', async () => {
        const pings = await Promise.allSettled([producerBus.ping(), consumerBus.ping()]);
        return pings.every((p) => p.status === 'rejected');
      });
      // the dead-letter administration says the broker cannot be reached: 503 with Retry-After
      const admin = await consuming.keys.mint({ roles: ['admin'] });
      const listed = await consuming.manage('GET', '/admin/events/receiver/dead-letters', { token: admin });
      expect(listed.status).toBe(503);
      expect(listed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(listed.headers.get('retry-after')).toBe('2');
      await sleep(2000);
      const pendingAtRestore = await countOf(
        producing.db,
        'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
      );
      const duringCut = committed.length - beforeCut;
      await proxy.restore();
      await sleep(1000);
      stop = true;
      await Promise.all(workers);

      expect(beforeCut).toBeGreaterThan(0);
      expect(duringCut).toBeGreaterThan(0); // the producer kept committing while the broker was away
      expect(pendingAtRestore).toBeGreaterThan(0); // and those events waited in the outbox
      await waitFor('both buses to reconnect', async () =>
        Promise.all([producerBus.ping(), consumerBus.ping()]).then(
          () => true,
          () => false,
        ),
      );
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore);

      const effects = () =>
        countOf(consuming.db, 'SELECT count(*) AS n FROM effects WHERE consumer = $1', ['receiver']);
      await waitFor(`${committed.length} effects`, async () => (await effects()) >= committed.length, 60_000);
      await sleep(500); // room for a late duplicate, were there one
      expect(await effects()).toBe(committed.length);
      const { rows } = await consuming.db.query<{ event_id: string; n: number }>(
        'SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id HAVING count(*) > 1',
      );
      expect(rows).toEqual([]);
      const applied = await consuming.db.query<{ event_id: string }>('SELECT event_id FROM effects');
      expect(new Set(applied.rows.map((r) => r.event_id))).toEqual(new Set(committed));
      expect(await countOf(consuming.db, 'SELECT count(*) AS n FROM inbox')).toBe(committed.length);
      expect(await countOf(producing.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')).toBe(
        0,
      );
      await producerBus.ping();
      await consumerBus.ping();
    }, 120_000);
  });
}
