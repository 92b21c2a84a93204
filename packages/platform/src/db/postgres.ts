import pg from 'pg';
import { pgQueryConfig, typeParsers } from './pg-config.js';
import { LazyTransaction } from './pipelined-tx.js';
import type { Db, QueryOptions, QueryResult, Queryable, Tx } from './types.js';
import { assertSchemaName } from './types.js';

export { pgQueryConfig } from './pg-config.js';

const { Pool } = pg;

export interface PostgresOptions {
  url: string;
  schema: string;
  poolMax?: number;
  applicationName?: string;
  statementTimeoutMs?: number;
}

/** Real PostgreSQL: one pool per service, `search_path` set per connection to the service schema. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;

  constructor(opts: PostgresOptions) {
    assertSchemaName(opts.schema);
    this.schema = opts.schema;
    this.pool = new Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      application_name: opts.applicationName ?? `hms-${opts.schema}`,
      options: `-c search_path=${opts.schema},public`,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      types: typeParsers,
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async query<R>(sql: string, params: readonly unknown[] = [], opts?: QueryOptions): Promise<QueryResult<R>> {
    const res = await this.pool.query(pgQueryConfig(sql, params, opts));
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  /**
   * A pooled connection for the caller's use, held until `release`. While it is checked out the
   * pool no longer listens for its errors, and pg emits a connection lost between two queries as
   * an `error` event, which, unheard, would end the process (a database failover would crash every
   * service holding a lock or a transaction); it is heard here, and such a connection is
   * destroyed on release instead of going back to the pool.
   */
  private async checkout(): Promise<{ client: pg.PoolClient; release: (broken?: boolean) => void }> {
    const client = await this.pool.connect();
    let lost = false;
    const onError = () => {
      lost = true;
    };
    client.on('error', onError);
    return {
      client,
      release: (broken = false) => {
        client.off('error', onError);
        client.release(lost || broken);
      },
    };
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { client, release } = await this.checkout();
    const tx = new LazyTransaction(client);
    let broken = false;
    try {
      const value = await fn(tx);
      await tx.commit();
      return value;
    } catch (err) {
      // a rollback that fails leaves the connection in no known state: it is not reused
      broken = await tx.rollback().then(
        () => false,
        () => true,
      );
      throw err;
    } finally {
      release(broken);
    }
  }

  async withLock<T>(
    name: string,
    fn: (conn: Queryable) => Promise<T>,
    opts: { wait?: boolean } = {},
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const { client, release } = await this.checkout();
    const key = `${this.schema}:${name}`;
    let locked = false;
    try {
      if (opts.wait === false) {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
          key,
        ]);
        if (!r.rows[0]?.ok) return { acquired: false };
      } else {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      }
      locked = true;
      return { acquired: true, value: await fn(wrapClient(client)) };
    } finally {
      let broken = false;
      if (locked) {
        // an aborted transaction left open by `fn` would make the unlock fail: end it first
        await client.query('ROLLBACK').catch(() => undefined);
        broken = await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).then(
          () => false,
          () => true,
        );
      }
      // a connection that may still hold the lock is discarded, never returned to the pool
      release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function wrapClient(client: pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = [], opts?: QueryOptions) {
      const res = await client.query(pgQueryConfig(sql, params, opts));
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}
