/**
 * One interface over real PostgreSQL (`pg`) and embedded PostgreSQL (PGlite). Business code sees
 * only this; which adapter runs is decided by configuration (DESIGN.md §1).
 *
 * Both adapters return the same JavaScript types: `int8` as number, `date` as 'YYYY-MM-DD'
 * string, `timestamptz` as Date, `json`/`jsonb` parsed. The contract suite holds them to it.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection and reuse it (PostgreSQL keeps its parse and, once
   * it judges a generic plan as good, its plan): for hot statements whose planning is a large part
   * of their time. The statement is named after its text, so any SQL may ask. PGlite, one
   * in-process connection, runs it as a plain query.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    opts?: QueryOptions,
  ): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction (`Db.transaction`). */
export interface Tx extends Queryable {
  /**
   * Runs a write whose result the caller does not need (an INSERT, UPDATE or upsert without
   * RETURNING, whose row count is not read), without waiting for it: on PostgreSQL it goes out
   * with the transaction's next statement or its COMMIT, one round trip fewer. It still runs in
   * issue order, before anything issued after it, and commits if and only if the transaction
   * does: if it fails, that next statement (or the COMMIT) fails with its error and the
   * transaction rolls back. PGlite, in process, runs it at once. A statement that answers a row
   * (a SELECT, `RETURNING`) fails the transaction with `DeferredRowsError` in both adapters:
   * nothing would read it, and on the wire it would be taken for the next statement's.
   */
  defer(sql: string, params?: readonly unknown[]): Promise<void>;
}

/** `tx.defer` was handed a statement that answers rows; use `tx.query` for it. */
export class DeferredRowsError extends Error {
  constructor() {
    super(
      'tx.defer takes writes that answer no rows (no SELECT, no RETURNING): use tx.query for this statement',
    );
    this.name = 'DeferredRowsError';
  }
}

/**
 * Refuses, before anything is sent, a write with RETURNING, which `tx.defer` must not take (on
 * PostgreSQL a deferred statement may go out in front of COMMIT, so a row noticed only in its
 * answer would come after the commit). A SELECT may be deferred when it answers no row (Appointment
 * takes its advisory locks with `… SELECT FROM l WHERE n < 0`); one that answers a row fails its
 * transaction in both adapters, by its answer.
 */
export function assertDeferrable(sql: string): void {
  if (/\bRETURNING\b/i.test(sql)) throw new DeferredRowsError();
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /** The schema this service's tables live in; every query runs with it first on the search path. */
  readonly schema: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding the named lock across every replica (PostgreSQL advisory lock).
   * With `wait: false` it answers `{ acquired: false }` at once when another holder has it.
   */
  withLock<T>(
    name: string,
    fn: (conn: Queryable) => Promise<T>,
    opts?: { wait?: boolean },
  ): Promise<{ acquired: true; value: T } | { acquired: false }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
}
