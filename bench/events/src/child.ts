/**
 * The consuming side, in a process of its own as in production: either the HMS `receiver`
 * service (RabbitBus → inboxHandler → effect + inbox row committed) or, for the baseline, a bare
 * amqplib consumer acking each message. Either way it records, per event id, the wall-clock time
 * at which the event was done with, and hands the samples to the bench process on request.
 */
import { DEFAULT_PREFETCH } from '@hms/platform';
import amqp from 'amqplib';
import { commitTimes, receiverService, startBenchService } from './services.js';
import { wallMs } from './stats.js';
import type { ChildConfig, FromChild, ToChild } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const samples = new Map<string, number>();
let expected = Infinity;

function send(message: FromChild): void {
  process.send?.(message);
}

function done(id: string): void {
  if (samples.has(id)) return; // a redelivery (the inbox skipped it): the first one counts
  samples.set(id, wallMs());
  checkExpected();
}

function checkExpected(): void {
  if (samples.size < expected) return;
  expected = Infinity;
  send({ kind: 'reached', count: samples.size });
}

async function startService(): Promise<() => Promise<void>> {
  let clock: ReturnType<typeof commitTimes> | undefined;
  const service = await startBenchService(
    receiverService((tx, envelope) => clock?.mark(tx, envelope.id)),
    {
      ...config,
      view: (db) => {
        clock = commitTimes(db, done);
        return clock.db;
      },
    },
  );
  return () => service.close();
}

async function startBaseline(): Promise<() => Promise<void>> {
  const conn = await amqp.connect(config.amqpUrl);
  const ch = await conn.createChannel();
  await ch.assertQueue(config.namespace, { durable: true });
  await ch.prefetch(DEFAULT_PREFETCH); // the kit's default prefetch, one ack per message
  await ch.consume(config.namespace, (msg) => {
    if (!msg) return;
    done(String(msg.properties.messageId));
    ch.ack(msg);
  });
  return async () => {
    await ch.deleteQueue(config.namespace);
    await conn.close();
  };
}

const stop = await (config.mode === 'service' ? startService() : startBaseline());

process.on('message', (message: ToChild) => {
  switch (message.kind) {
    case 'expect':
      expected = message.count;
      checkExpected();
      break;
    case 'collect': {
      const ids = [...samples.keys()];
      send({ kind: 'samples', ids, at: ids.map((id) => samples.get(id) ?? NaN) });
      samples.clear();
      break;
    }
    case 'stop':
      void stop().then(() => {
        send({ kind: 'stopped' });
        process.disconnect();
      });
      break;
  }
});
// the bench process went away (it failed): do not linger
process.on('disconnect', () => process.exit(1));
send({ kind: 'ready' });
