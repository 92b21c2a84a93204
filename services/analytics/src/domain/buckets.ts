import type { Fact, FactKind } from './facts.js';
import { facilityDay } from './days.js';

/**
 * Where an aggregate counts: per facility day, a metric, a dimension (a status, an outcome, a
 * denial code; '' when none), a currency ('' when none), a count and an amount (minor units).
 */
export interface Bucket {
  day: string;
  metric: Metric;
  dimension: string;
  currency: string;
  count: number;
  amount: number;
}

export const METRICS = [
  'patients-registered',
  'appointments',
  'prescriptions-filled',
  'stock-alerts',
  'invoiced',
  'paid',
  'claims',
  'denials',
] as const;
export type Metric = (typeof METRICS)[number];

const one = (day: string, metric: Metric, dimension = '', currency = '', amount = 0): Bucket => ({
  day,
  metric,
  dimension,
  currency,
  count: 1,
  amount,
});

/**
 * The buckets an aggregate counts in, at the state a fact gives it. An appointment counts on the
 * facility day of its start (a no-show at 23:30 is that day's, not the next UTC day's) under its
 * status; an invoice on the day it was issued, while issued or paid (a draft or a void one is not
 * invoiced); a claim on the day it was approved or denied (a paid claim was approved), a denied
 * one also under its denial code.
 */
export function bucketsOf(fact: Fact, zone: string): Bucket[] {
  switch (fact.kind) {
    case 'patient':
      return [one(facilityDay(fact.registeredAt, zone), 'patients-registered')];
    case 'appointment':
      return [one(facilityDay(fact.start, zone), 'appointments', fact.status)];
    case 'fill':
      return [one(facilityDay(fact.completedAt, zone), 'prescriptions-filled')];
    case 'stock-alert':
      return [one(facilityDay(fact.at, zone), 'stock-alerts')];
    case 'payment':
      return [one(facilityDay(fact.recordedAt, zone), 'paid', '', fact.currency, fact.amount)];
    case 'invoice':
      if (!fact.issuedAt || (fact.status !== 'issued' && fact.status !== 'paid')) return [];
      return [one(facilityDay(fact.issuedAt, zone), 'invoiced', '', fact.currency, fact.total)];
    case 'claim': {
      if (!fact.adjudicatedAt) return [];
      const day = facilityDay(fact.adjudicatedAt, zone);
      if (fact.status === 'denied')
        return [
          one(day, 'claims', 'denied', fact.currency, fact.amount),
          one(day, 'denials', fact.denialCode ?? '', fact.currency, fact.amount),
        ];
      if (fact.status === 'approved' || fact.status === 'paid')
        return [one(day, 'claims', 'approved', fact.currency, fact.amount)];
      return [];
    }
  }
}

/** An aggregate as stored: the newest version applied (0: none yet) and its buckets. */
export interface AggregateState {
  kind: FactKind;
  id: string;
  version: number;
  buckets: Bucket[];
}

export const aggregateKey = (a: { kind: string; id: string }): string => `${a.kind}\u0000${a.id}`;
const bucketKey = (b: Bucket): string => [b.day, b.metric, b.dimension, b.currency].join('\u0000');

/** What applying facts changes: aggregates moved to a newer version, and the totals' deltas. */
export interface Plan {
  writes: AggregateState[];
  deltas: Bucket[];
}

/** Sums buckets with the same day, metric, dimension and currency; drops those that cancel out. */
export function mergeDeltas(deltas: Iterable<Bucket>): Bucket[] {
  const sums = new Map<string, Bucket>();
  for (const b of deltas) {
    const key = bucketKey(b);
    const sum = sums.get(key) ?? { ...b, count: 0, amount: 0 };
    sum.count += b.count;
    sum.amount += b.amount;
    sums.set(key, sum);
  }
  return [...sums.values()].filter((d) => d.count !== 0 || d.amount !== 0);
}

const negated = (b: Bucket): Bucket => ({ ...b, count: -b.count, amount: -b.amount });

/**
 * The rule that makes the read models a function of the set of facts, whatever their order or
 * repetition: per aggregate, the newest version wins. A fact no newer than what is stored changes
 * nothing; a newer one takes the stored version's buckets out of the totals and puts its own in.
 * Two facts of one version are the same state (producers bump the version on every change), so
 * which of them is applied does not matter. `stored` holds every aggregate the facts name
 * (version 0 when new). Deltas that cancel out are dropped.
 */
export function plan(
  stored: ReadonlyMap<string, AggregateState>,
  facts: readonly Fact[],
  zone: string,
): Plan {
  const newest = new Map<string, Fact>();
  for (const f of facts) {
    const key = aggregateKey(f);
    const seen = newest.get(key);
    if (!seen || f.version > seen.version) newest.set(key, f);
  }
  const writes: AggregateState[] = [];
  const deltas: Bucket[] = [];
  for (const [key, fact] of newest) {
    const before = stored.get(key);
    if (before && before.version >= fact.version) continue;
    const buckets = bucketsOf(fact, zone);
    writes.push({ kind: fact.kind, id: fact.id, version: fact.version, buckets });
    deltas.push(...(before?.buckets ?? []).map(negated), ...buckets);
  }
  return { writes, deltas: mergeDeltas(deltas) };
}
