import type { EventType } from '@hms/contracts';
import type { AppError } from '../errors.js';
import { appendToOutbox, type NewEvent } from '../events/outbox.js';
import { checkVersion } from '../http/etag.js';
import type { Db, Tx } from './types.js';

/** How one aggregate is changed: every service's PUT, PATCH and deactivation go through it. */
export interface VersionedChange<T extends { version: number }, I, F extends string = string> {
  /** The current state, locked for the change (`SELECT … FOR UPDATE`). */
  load(tx: Tx): Promise<T | undefined>;
  notFound(): AppError;
  /** The new state asked for, validated (throw a 400 problem here: nothing is written yet). */
  next(current: T): I;
  /** The fields that differ; none: nothing is written, no version, no event. */
  changedFields(current: T, next: I): F[];
  /** Writes the new state (version + 1) and answers it. */
  save(tx: Tx, next: I, current: T): Promise<T>;
  /** The event of the change, with the saved state and the changed fields. */
  event(saved: T, changedFields: F[]): NewEvent<EventType>;
}

/**
 * Changes an aggregate as DESIGN.md §3 and §5 ask: in one transaction, the current state locked,
 * `If-Match` checked (412 when stale; `expected` undefined when the request sent none), the new
 * state validated, and when anything changed, saved with the next version and its event written
 * to the outbox in the same transaction.
 */
export function changeVersioned<T extends { version: number }, I, F extends string>(
  db: Db,
  source: string,
  expected: number | '*' | undefined,
  change: VersionedChange<T, I, F>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const current = await change.load(tx);
    if (!current) throw change.notFound();
    if (expected !== undefined) checkVersion(expected, current.version);
    const next = change.next(current);
    const changed = change.changedFields(current, next);
    if (changed.length === 0) return current;
    const saved = await change.save(tx, next, current);
    await appendToOutbox(tx, source, change.event(saved, changed));
    return saved;
  });
}
