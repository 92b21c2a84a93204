import type { EventEnvelope } from '@hms/contracts';
import { buildEnvelope, inboxHandler, PostgresDb } from '@hms/platform';
import { registration } from './events.js';
import { admit, keepCopy } from './services.js';
import { wallMs } from './stats.js';

/**
 * A reference, not a target: the database alone. The emitter's transaction (row + outbox row)
 * and the receiver's (the kit's inboxHandler: inbox row + effect) run at once, at the full path's
 * concurrency (the producers; the prefetch of 16 on the consumer side) on pools of the default
 * size, with no relay and no broker: the ceiling, on this machine, of any design that commits
 * once per event on each side.
 */
export async function databaseOnly(opts: {
  emitterUrl: string;
  receiverUrl: string;
  events: number;
  producers: number;
}): Promise<{ eventsPerSec: number; producedPerSec: number; consumedPerSec: number }> {
  const emitterDb = new PostgresDb({ url: opts.emitterUrl, schema: 'emitter' });
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
    loop(16, (i) => apply(envelopes[i] as EventEnvelope, { attempt: 1 })),
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
