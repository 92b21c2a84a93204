/**
 * The analytics benchmark's synthetic hospital: a year of events in the shapes their producers
 * publish (only the fields Analytics reads are filled in: the events never go through a schema
 * check here, they are loaded straight into the kept-events table), with the totals a dashboard
 * over the whole year must show, counted as they are generated.
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@hms/contracts';

const DAY_MS = 86_400_000;
const DENIAL_CODES = ['CO-50', 'CO-97', 'PR-204', 'CO-16', 'CO-29'];

/** What the whole year's dashboard must show (cancelled, no-shows… per status, amounts in USD). */
export interface Expected {
  patients: number;
  appointments: Record<'scheduled' | 'completed' | 'cancelled' | 'no-show', number>;
  fills: number;
  stockAlerts: number;
  invoiced: number;
  paid: number;
  approved: number;
  denied: number;
}

/** A small seeded generator (mulberry32): the same events on every run. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const envelope = (type: string, subject: string, time: string, data: unknown) =>
  ({ id: randomUUID(), type, subject, time, data }) as EventEnvelope;

/**
 * `count` events spread over the `days` days before `until`: registrations, appointments (booked,
 * then completed, no-show, cancelled or left scheduled), fills, stock alerts, invoices with their
 * payments, claims approved or denied.
 */
export function* yearOfEvents(
  count: number,
  until: Date,
  days: number,
  expected: Expected,
): Generator<EventEnvelope> {
  const rnd = random(42);
  const start = until.getTime() - days * DAY_MS;
  const at = () => new Date(start + Math.floor(rnd() * days * DAY_MS)).toISOString();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  let made = 0;
  const emit = function* (...events: EventEnvelope[]) {
    for (const e of events) if (made++ < count) yield e;
  };
  while (made < count) {
    const r = rnd();
    const when = at();
    if (r < 0.1) {
      expected.patients += 1;
      const id = randomUUID();
      yield* emit(
        envelope('patient.registered.v1', id, when, { patient: { id, version: 1, createdAt: when } }),
      );
    } else if (r < 0.55) {
      const id = randomUUID();
      const appointment = { id, staffId: randomUUID(), start: when, status: 'scheduled', version: 1 };
      const s = rnd();
      const status = s < 0.7 ? 'completed' : s < 0.8 ? 'no-show' : s < 0.92 ? 'cancelled' : 'scheduled';
      if (made + 2 > count) continue; // a pair or nothing, so the expected counts stay exact
      expected.appointments[status] += 1;
      yield* emit(envelope('appointment.created.v1', id, when, { appointment }));
      const type = status === 'cancelled' ? 'appointment.cancelled.v1' : 'appointment.updated.v1';
      yield* emit(envelope(type, id, when, { appointment: { ...appointment, status, version: 2 } }));
    } else if (r < 0.7) {
      expected.fills += 1;
      const fill = { id: randomUUID(), state: 'completed', at: when, completedAt: when };
      yield* emit(
        envelope('prescription.filled.v1', randomUUID(), when, { prescription: { id: randomUUID() }, fill }),
      );
    } else if (r < 0.72) {
      expected.stockAlerts += 1;
      yield* emit(envelope('inventory.stock-low.v1', randomUUID(), when, { item: { id: randomUUID() } }));
    } else if (r < 0.87) {
      if (made + 2 > count) continue;
      const total = 1000 * (5 + Math.floor(rnd() * 50));
      const invoice = {
        id: randomUUID(),
        version: 1,
        status: 'issued',
        currency: 'USD',
        total,
        issuedAt: when,
      };
      const payment = { id: randomUUID(), currency: 'USD', amount: total, recordedAt: when };
      expected.invoiced += total;
      expected.paid += total;
      yield* emit(
        envelope('billing.invoice-generated.v1', invoice.id, when, { invoice }),
        envelope('billing.payment-recorded.v1', invoice.id, when, {
          payment,
          invoice: { ...invoice, version: 2, status: 'paid' },
        }),
      );
    } else {
      if (made + 2 > count) continue;
      const denied = rnd() < 0.15;
      const claim = {
        id: randomUUID(),
        invoiceId: randomUUID(),
        version: 1,
        status: 'submitted',
        currency: 'USD',
        amount: 1000 * (1 + Math.floor(rnd() * 20)),
        history: [] as { at: string; action: string }[],
      };
      if (denied) expected.denied += 1;
      else expected.approved += 1;
      const decided = {
        ...claim,
        version: 2,
        status: denied ? 'denied' : 'approved',
        history: [{ at: when, action: denied ? 'denied' : 'approved' }],
        ...(denied ? { denialCode: pick(DENIAL_CODES) } : {}),
      };
      yield* emit(
        envelope('billing.claim-submitted.v1', claim.id, when, { claim }),
        envelope(denied ? 'billing.claim-denied.v1' : 'billing.claim-approved.v1', claim.id, when, {
          claim: decided,
        }),
      );
    }
  }
}
