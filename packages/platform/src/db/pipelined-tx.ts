import { createRequire } from 'node:module';
import pg from 'pg';
import { pgQueryConfig } from './pg-config.js';
import type { QueryOptions, QueryResult, Tx } from './types.js';
import { DeferredRowsError, assertDeferrable } from './types.js';

/*
 * A transaction on one pooled connection whose statements go out pipelined (ADR 0008): BEGIN
 * waits for the first statement and travels with it, and statements deferred with `tx.defer`
 * travel in front of the next one (COMMIT included) under its Sync. This subclasses pg's Query and
 * uses its connection's internals (not in @types/pg), which is why it is a file of its own, behind
 * the `Db` interface that `postgres.ts` implements.
 */

/** BEGIN and COMMIT as statements prepared once per connection, so that they go out with no Parse. */
const BEGIN = { name: 'hms_begin', text: 'BEGIN', values: [] as unknown[] };
const COMMIT = { name: 'hms_commit', text: 'COMMIT', values: [] as unknown[] };

/** pg's own conversion of a parameter to its wire form (what its Bind does with each value). */
const prepareValue = (
  createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown }
).prepareValue;

/** The parts of pg's connection and query objects that `Pipelined` works with (not in @types/pg). */
interface ConnectionInternals {
  parsedStatements?: Record<string, string>;
  submittedNamedStatements?: Record<string, string>;
  stream?: { cork?: () => void; uncork?: () => void };
  bind(config: { statement: string; values: unknown[] }): void;
  execute(config: { portal: string }): void;
}
type QueryCallback = (err: Error | null | undefined, res: pg.QueryResult) => void;
interface RawQuery {
  name?: string;
  text?: string;
  values?: unknown;
  submit(connection: ConnectionInternals): Error | null | undefined;
  handleCommandComplete(msg: unknown, connection: unknown): void;
  handleDataRow(msg: unknown): void;
  /** pg's way of failing a query at its ReadyForQuery with an error of the client's own. */
  _canceledDueToError: unknown;
}
const RawQuery = pg.Query as unknown as new (
  config: pg.QueryConfig,
  values: undefined,
  callback: QueryCallback,
) => RawQuery;

/** Statements sent in front of another one, under its Sync: all prepared on the connection already. */
interface Front {
  begin: boolean;
  /** Their values already in wire form. */
  statements: { name: string; values: unknown[] }[];
}

/**
 * A statement with others in front of it, in one write and one round trip: Bind and Execute of
 * BEGIN and of deferred statements (all prepared on the connection, so no Parse), then the
 * statement's own Parse/Bind/Describe/Execute and one Sync. The server runs them in order and
 * skips the rest at the first error, so nothing runs outside the transaction and nothing after a
 * failed statement. The front statements answer no rows; their CommandCompletes are consumed
 * here, and `begun` tells whether BEGIN (when in front) succeeded.
 */
class Pipelined extends RawQuery {
  begun = false;
  private ahead: number;

  constructor(
    config: pg.QueryConfig,
    private readonly front: Front,
    callback: QueryCallback,
  ) {
    super(config, undefined, callback);
    this.ahead = (front.begin ? 1 : 0) + front.statements.length;
  }

  override submit(connection: ConnectionInternals): Error | null | undefined {
    const stream = connection.stream;
    stream?.cork?.();
    try {
      if (this.front.begin) {
        connection.bind({ statement: BEGIN.name, values: [] });
        connection.execute({ portal: '' });
      }
      for (const f of this.front.statements) {
        connection.bind({ statement: f.name, values: f.values });
        connection.execute({ portal: '' });
      }
      return super.submit(connection);
    } finally {
      stream?.uncork?.();
    }
  }

  /** A front statement answering rows (a deferred SELECT) fails the whole, clearly. */
  override handleDataRow(msg: unknown): void {
    if (this.ahead > 0) {
      this._canceledDueToError ||= new DeferredRowsError();
      return;
    }
    super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: unknown): void {
    if (this.ahead > 0) {
      if (this.front.begin) this.begun = true; // the first to complete is BEGIN
      this.ahead -= 1;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }
}

/**
 * The `Tx` of `PostgresDb.transaction`. BEGIN goes out with the first statement, and statements
 * deferred with `tx.defer` with the next one: a transaction of BEGIN, an INSERT, a deferred
 * INSERT and COMMIT is two round trips instead of four (one that runs no statement sends neither
 * BEGIN nor COMMIT). A statement carries others in front of it when it uses the extended protocol
 * (it has parameters or is prepared; COMMIT is) and BEGIN is prepared on the connection (its first
 * transaction prepares it); otherwise they go first on their own, as before. Statements reach
 * the connection in the order they were issued, and none issued after BEGIN is handed over
 * before BEGIN has succeeded, so no statement can run outside the transaction.
 */
export class LazyTransaction implements Tx {
  private state: 'idle' | 'beginning' | 'open' | 'failed' = 'idle';
  private beginError: unknown;
  /** Settles once every statement issued so far has been handed to the connection. */
  private queue: Promise<void> = Promise.resolve();
  /** Statements issued and not yet handed over (waiting behind BEGIN or an earlier one). */
  private waiting = 0;
  /** Deferred statements not yet sent, in issue order. */
  private deferred: { name: string; text: string; values: unknown[] }[] = [];
  /** The first error of a deferred statement sent on its own (`sendDeferredAlone`). */
  private deferredError: unknown;

  constructor(private readonly client: pg.PoolClient) {}

  async query<R>(sql: string, params: readonly unknown[] = [], opts?: QueryOptions): Promise<QueryResult<R>> {
    const res = await this.run(pgQueryConfig(sql, params, opts));
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  async defer(sql: string, params: readonly unknown[] = []): Promise<void> {
    assertDeferrable(sql);
    const config = pgQueryConfig(sql, params, { prepare: true });
    const name = config.name as string;
    const conn = this.connection();
    let values: unknown[] | undefined;
    // only behind what has been handed over already (order), and only a statement the connection
    // has prepared (no Parse in front: pg would misfile its ParseComplete)
    if (
      (this.state === 'idle' || this.state === 'open') &&
      this.waiting === 0 &&
      this.beginPrepared() &&
      conn?.parsedStatements?.[name] === sql
    ) {
      try {
        values = params.map((v) => prepareValue(v));
      } catch {
        values = undefined; // sent now, so that pg reports the value it cannot convert
      }
    }
    if (!values) {
      const { rows } = await this.query(sql, params, { prepare: true });
      if (rows.length > 0) throw new DeferredRowsError();
      return;
    }
    this.deferred.push({ name, text: sql, values });
  }

  async commit(): Promise<void> {
    if (this.state === 'idle' && this.deferred.length === 0) return;
    await this.run(COMMIT);
    if (this.deferredError) throw this.deferredError as Error;
  }

  async rollback(): Promise<void> {
    this.deferred = [];
    if (this.state === 'idle') return;
    await this.queue;
    await this.client.query('ROLLBACK').catch(() => undefined);
  }

  private run(config: pg.QueryConfig | string): Promise<pg.QueryResult> {
    if (this.state === 'idle') {
      if (this.canCarry(config)) return this.first(config as pg.QueryConfig);
      this.sendBegin();
    }
    return this.send(config);
  }

  /** Whether `config` can go out with statements in front of it (`Pipelined`). */
  private canCarry(config: pg.QueryConfig | string): boolean {
    if (typeof config === 'string' || !Array.isArray(config.values)) return false;
    if (config.values.length === 0 && !config.name) return false; // pg sends it as a simple query
    const conn = this.connection();
    if (!this.beginPrepared() || !conn) return false;
    // a name pg would refuse (used for another text) is refused before anything is written
    const name = config.name;
    const previous = name && (conn.parsedStatements?.[name] ?? conn.submittedNamedStatements?.[name]);
    return !previous || previous === config.text;
  }

  private sendBegin(): void {
    this.state = 'beginning';
    this.queue = this.client.query(BEGIN).then(
      () => void (this.state = 'open'),
      (err: unknown) => {
        this.state = 'failed';
        this.beginError = err;
      },
    );
  }

  /** The first statement, with BEGIN (and what was deferred before it) in front of it. */
  private first(config: pg.QueryConfig): Promise<pg.QueryResult> {
    this.state = 'beginning';
    const { query, running } = this.pipelined(config, true);
    const settle = (err?: unknown) => {
      if (query.begun) {
        this.state = 'open';
      } else {
        this.state = 'failed';
        this.beginError = err ?? new Error('the transaction did not begin');
      }
    };
    this.queue = running.then(
      () => settle(),
      (err: unknown) => settle(err),
    );
    return running;
  }

  private pipelined(
    config: pg.QueryConfig,
    begin: boolean,
  ): { query: Pipelined; running: Promise<pg.QueryResult> } {
    const statements = this.deferred.splice(0).map(({ name, values }) => ({ name, values }));
    let query: Pipelined | undefined;
    const running = new Promise<pg.QueryResult>((resolve, reject) => {
      query = new Pipelined(config, { begin, statements }, (err, res) => (err ? reject(err) : resolve(res)));
      void this.client.query(query as unknown as pg.QueryConfig);
    });
    return { query: query as Pipelined, running };
  }

  /** Hands a statement to the connection once BEGIN and every statement issued before it have been. */
  private send(config: pg.QueryConfig | string): Promise<pg.QueryResult> {
    if (this.state === 'open' && this.waiting === 0) return this.handOver(config);
    this.waiting += 1;
    let running: Promise<pg.QueryResult> | undefined;
    const handed = this.queue.then(() => {
      this.waiting -= 1;
      if (this.state === 'failed') throw this.beginError;
      running = this.handOver(config);
    });
    this.queue = handed.catch(() => undefined);
    return handed.then(() => running as Promise<pg.QueryResult>);
  }

  /** Hands `config` over, with the deferred statements in front of it (or before it, on their own). */
  private handOver(config: pg.QueryConfig | string): Promise<pg.QueryResult> {
    if (this.deferred.length === 0) return this.client.query(config);
    if (this.canCarry(config)) return this.pipelined(config as pg.QueryConfig, false).running;
    this.sendDeferredAlone();
    return this.client.query(config);
  }

  private sendDeferredAlone(): void {
    for (const d of this.deferred.splice(0)) {
      this.client
        .query({ name: d.name, text: d.text, values: d.values })
        .then((res) => {
          if (res.rows.length > 0) throw new DeferredRowsError();
        })
        .catch((err: unknown) => void (this.deferredError ??= err));
    }
  }

  private connection(): ConnectionInternals | undefined {
    return (this.client as unknown as { connection?: ConnectionInternals }).connection;
  }

  /** Whether this connection has BEGIN prepared. */
  private beginPrepared(): boolean {
    const conn = this.connection();
    return conn?.parsedStatements?.[BEGIN.name] === BEGIN.text && typeof conn.bind === 'function';
  }
}
