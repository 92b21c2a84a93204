import type { EventEnvelope } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { useServiceWith } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { analyticsConfig } from '../src/config.js';
import { analyticsConsumers } from '../src/events.js';
import { analyticsService } from '../src/service.js';
import { republished } from './fixtures.js';
import { dashboard, rebuilt, tokensFor, type Tokens } from './helpers.js';
import { EXPECTED, scriptedDay, ZONE } from './scripted-day.js';

/**
 * Order does not matter: the scripted day's events handed to the consumer's handler shuffled,
 * many delivered twice or three times (same id) or published again under a new id, in
 * transactions of several events like the inbox's group commit, by four concurrent writers,
 * give the dashboards counted by hand; so does a rebuild afterwards.
 */
let svc: RunningService;
let t: Tokens;

useServiceWith(
  analyticsService,
  tokensFor,
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  { startTimeoutMs: 60_000, env: { FACILITY_TIMEZONE: ZONE } },
);

/** A small seeded generator (mulberry32), so a failing order can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffledAndRepeated(events: readonly EventEnvelope[], rnd: () => number): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (const e of events) {
    const copies = 1 + Math.floor(rnd() * 3); // once, twice or three times, same id
    for (let k = 0; k < copies; k++) out.push(e);
    // and sometimes under a new id (not a stock-low event: it names no crossing of its own, so a
    // new id is a new crossing)
    if (rnd() < 0.2 && e.type !== 'inventory.stock-low.v1') out.push(republished(e));
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as EventEnvelope, out[i] as EventEnvelope];
  }
  return out;
}

async function deliver(events: readonly EventEnvelope[], rnd: () => number): Promise<void> {
  const [consumer] = analyticsConsumers({
    db: svc.db,
    clock: { now: () => new Date('2027-03-12T00:00:00.000Z') },
    facility: { timezone: ZONE },
    config: analyticsConfig({}),
  });
  const queue = [...events];
  const writer = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, 1 + Math.floor(rnd() * 6));
      await svc.db.transaction(async (tx) => {
        for (const e of batch) await consumer?.handle(tx, e);
      });
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
}

const days = Object.keys(EXPECTED);

describe('the same events in any order, any number of times', () => {
  for (const seed of [1, 2, 3]) {
    it(`order ${seed}: shuffled and duplicated, the dashboards counted by hand`, async () => {
      await svc.db.query('TRUNCATE events, aggregates, daily_totals');
      await deliver(shuffledAndRepeated(scriptedDay(), random(seed)), random(seed + 100));
      for (const day of days) expect(await dashboard(svc, t.manager, day)).toEqual(EXPECTED[day]);
      await rebuilt(svc, t.admin);
      for (const day of days) expect(await dashboard(svc, t.manager, day)).toEqual(EXPECTED[day]);
    });
  }
});
