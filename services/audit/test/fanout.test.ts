import { EVENT_TYPES, type EventEnvelope } from '@hms/contracts';
import { buildEnvelope } from '@hms/platform';
import { createTestBus, startService, type RunningService, type TestBus } from '@hms/testkit';
import { useStarted } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { auditService } from '../src/service.js';
import { auditEnv, breaksOf, verify, waitForRecords } from './helpers.js';
import { SAMPLES, sampleOf } from './samples.js';

/**
 * Fan-out on real RabbitMQ (issue #14): Audit's queue is bound to every type, so it sees every
 * event of the catalogue, each exactly once, even when a delivery comes again, while another
 * consumer on the same exchange gets its own copy of each (fan-out, not competing consumers).
 */
interface World {
  bus: TestBus;
  audit: RunningService;
  bystander: EventEnvelope[];
  close(): Promise<void>;
}

const world = useStarted<World>(async () => {
  const bus = await createTestBus({ kind: 'rabbitmq' });
  const bystander: EventEnvelope[] = [];
  await bus.bus.subscribe({
    consumer: 'bystander',
    types: ['*'],
    handler: async (e) => void bystander.push(e),
  });
  const audit = await startService(auditService, { bus: bus.bus, env: auditEnv() });
  return {
    bus,
    audit,
    bystander,
    async close() {
      await audit.close();
      await bus.close();
    },
  };
}, 60_000);

/** How many records the trail holds per event id (the observation; the expectation is the test's). */
async function recordsPerEvent(w: World): Promise<Map<string, number>> {
  const { rows } = await w.audit.db.query<{ event_id: string; n: number }>(
    'SELECT event_id, count(*)::int AS n FROM audit_records GROUP BY event_id',
  );
  return new Map(rows.map((r) => [r.event_id, r.n]));
}

async function duplicatesSkipped(w: World): Promise<number> {
  const res = await w.audit.manage<string>('GET', '/metrics');
  return [...res.body.matchAll(/^events_duplicate_total\{[^}]*consumer="audit"[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe.skipIf(!process.env.TEST_AMQP_URL)('every event type of the catalogue reaches Audit once', () => {
  const types = Object.keys(EVENT_TYPES);

  it('has a sample for every type in the catalogue (add one to test/samples.ts for a new type)', () => {
    expect(
      types.filter((t) => !(t in SAMPLES)),
      'event types without a sample',
    ).toEqual([]);
  });

  it('records each exactly once, also when the same envelope is delivered again', async () => {
    const w = world();
    // buildEnvelope checks each sample against its type's schema, naming the type when it does not fit
    const envelopes = types.map((type) => buildEnvelope('test', { type, ...sampleOf(type) } as never));
    await w.bus.bus.publish(envelopes);
    await waitForRecords(w.audit.db, envelopes.length);
    const once = new Map(envelopes.map((e) => [e.id, 1]));
    expect(await recordsPerEvent(w)).toEqual(once);

    // the broker hands the same envelopes over again: the inbox applies each id once
    await w.bus.bus.publish(envelopes);
    await expect.poll(() => duplicatesSkipped(w), { timeout: 15_000 }).toBe(envelopes.length);
    expect(await recordsPerEvent(w)).toEqual(once);
    await expect.poll(() => w.bystander.length, { timeout: 15_000 }).toBe(2 * envelopes.length);

    const { rows } = await w.audit.db.query<{ type: string }>('SELECT type FROM audit_records ORDER BY seq');
    expect(rows.map((r) => r.type).sort()).toEqual([...types].sort());
    const auditor = await w.audit.keys.mint({ roles: ['auditor'] });
    expect(breaksOf(await verify(w.audit, auditor))).toEqual([]);
  });
});
