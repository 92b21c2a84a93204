import type { EventEnvelope } from '@hms/contracts';
import { buildEnvelope, DEFAULT_PREFETCH, inboxHandler, PostgresDb } from '@hms/platform';
import { registration } from './events.js';
import { admit, keepCopy } from './services.js';
import { wallMs } from './stats.js';

/**
 * A reference, not a target: the database alone. The emitter's transaction (row + outbox row)
 * and the receiver's (the kit's inboxHandler: inbox row + effect, grouped as the inbox groups
 * them) run at once, at the full path's concurrency (the producers on the emitter's pool; the
 * default prefetch on the consumer side), with no relay and no broker: what the two databases
 * allow, on this machine, before any messaging is added.
 */
export async function databaseOnly(opts: {
  emitterUrl: string;
  receiverUrl: string;
  events: number;
  producers: number;
  poolMax: number;
}): Promise<{ eventsPerSec: number; producedPerSec: number; consumedPerSec: number }> {
  const emitterDb = new PostgresDb({ url: opts.emitterUrl, schema: 'emitter', poolMax: opts.poolMax });
  const receiverDb = new PostgresDb({ url: opts.receiverUrl, schema: 'receiver' });
  const apply = inboxHandler({ db: receiverDb, consumer: 'receiver', handle: keepCopy });
  const envelopes = Array.from({ length: opts.events }, () => buildEnvelope('patient', registration()));
  const t0 = wallMs();
  const loop = async (workers: number, step: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < opts.events) await step(next++);
      }),
    );
    return wallMs();
  };
  const [produced, consumed] = await Promise.all([
    loop(opts.producers, () => admit(emitterDb)),
    loop(DEFAULT_PREFETCH, (i) => apply(envelopes[i] as EventEnvelope, { attempt: 1 })),
  ]);
  await emitterDb.close();
  await receiverDb.close();
  const perSec = (end: number) => opts.events / ((end - t0) / 1000);
  return {
    eventsPerSec: perSec(Math.max(produced, consumed)),
    producedPerSec: perSec(produced),
    consumedPerSec: perSec(consumed),
  };
}
