import {
  assertValidEvent,
  dataSchemaUri,
  type EventData,
  type EventEnvelope,
  type EventType,
} from '@hms/contracts';
import { currentContext } from '../context.js';
import type { Db, Tx } from '../db/types.js';
import { uuidv7 } from '../ids.js';

export interface NewEvent<T extends EventType> {
  type: T;
  /** The aggregate the event is about (its id); ordering is kept per subject. */
  subject: string;
  data: EventData<T>;
}

/** Builds a CloudEvents envelope and checks it against the contract registry. */
export function buildEnvelope<T extends EventType>(source: string, event: NewEvent<T>): EventEnvelope {
  const ctx = currentContext();
  const traceparent = ctx?.traceparent;
  const envelope = {
    specversion: '1.0' as const,
    id: uuidv7(),
    type: event.type,
    source: `/hms/${source}`,
    time: new Date().toISOString(),
    subject: event.subject,
    dataschema: dataSchemaUri(event.type),
    datacontenttype: 'application/json' as const,
    ...(traceparent ? { traceparent } : {}),
    // the request's verified caller; work of the service's own (a consumer, a job) is the service's
    actor: ctx?.actor ?? `svc:${source}`,
    data: event.data,
  };
  assertValidEvent(envelope);
  return envelope;
}

/**
 * Writes an event to the service's outbox inside the caller's transaction: the event exists if
 * and only if the state change commits.
 */
export async function appendToOutbox<T extends EventType>(
  tx: Tx,
  source: string,
  event: NewEvent<T>,
): Promise<EventEnvelope> {
  const envelope = buildEnvelope(source, event);
  wroteOutbox.add(tx);
  // prepared (every write transaction runs it) and deferred: on PostgreSQL it goes out with the
  // transaction's next statement or its COMMIT, one round trip fewer, and commits if and only if
  // the transaction does (a failure fails the transaction)
  await tx.defer('INSERT INTO outbox (id, type, subject, envelope) VALUES ($1, $2, $3, $4)', [
    envelope.id,
    envelope.type,
    envelope.subject,
    JSON.stringify(envelope),
  ]);
  return envelope;
}

const wroteOutbox = new WeakSet<Tx>();

/**
 * A view of `db` that calls `onCommit` after each transaction that wrote to the outbox has
 * committed, so the relay publishes at once instead of at its next tick.
 */
export function notifyOnOutboxCommit(db: Db, onCommit: () => void): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
      return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
        let used: Tx | undefined;
        const value = await target.transaction((tx) => {
          used = tx;
          return fn(tx);
        });
        if (used && wroteOutbox.has(used)) onCommit();
        return value;
      };
    },
  });
}
