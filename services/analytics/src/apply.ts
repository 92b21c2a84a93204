import type { Tx } from '@hms/platform';
import { aggregateKey, plan, type AggregateState, type Bucket } from './domain/buckets.js';
import type { Fact, KeptEvent } from './domain/facts.js';
import * as store from './store.js';

/**
 * The one way facts reach the read models, for a consumed event and for a rebuild alike: lock the
 * aggregates they name, let the newest version of each win (`plan`), store the aggregates that
 * moved and add the deltas to the daily totals, all in the caller's transaction, which holds
 * `store.lockReadModels`. A rebuild hands in `addDeltas` to sum them over all its batches and
 * write the totals once (each hot row updated once, not once per batch).
 */
export async function applyFacts(
  tx: Tx,
  facts: readonly Fact[],
  zone: string,
  addDeltas: (deltas: Bucket[]) => Promise<void> = (deltas) => store.addToTotals(tx, deltas),
): Promise<void> {
  if (facts.length === 0) return;
  const keys = new Map<string, { kind: string; id: string }>();
  for (const f of facts) keys.set(aggregateKey(f), { kind: f.kind, id: f.id });
  const stored = new Map<string, AggregateState>();
  for (const a of await store.lockAggregates(tx, [...keys.values()])) stored.set(aggregateKey(a), a);
  const { writes, deltas } = plan(stored, facts, zone);
  await store.writeAggregates(tx, writes);
  await addDeltas(deltas);
}

/**
 * Keeps events and applies their facts. An event delivered again (same id) is not kept twice, and
 * its facts change nothing: every aggregate it names is at that version or newer already. So
 * nothing here waits to learn whether the event is new; only the aggregates' lock is a round trip.
 */
export async function recordEvents(
  tx: Tx,
  events: readonly KeptEvent[],
  now: Date,
  zone: string,
): Promise<void> {
  await store.lockReadModels(tx);
  await store.keepEvents(tx, events, now);
  await applyFacts(
    tx,
    events.flatMap((e) => e.facts),
    zone,
  );
}
