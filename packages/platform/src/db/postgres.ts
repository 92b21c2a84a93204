import { createHash } from 'node:crypto';
import pg from 'pg';
import { Lru } from '../lru.js';
import type { Db, QueryOptions, QueryResult, Queryable, Tx } from './types.js';
import { assertSchemaName } from './types.js';

const { Pool, types } = pg;

/** Statement names of the texts prepared so far (a service has a few dozen; bounded all the same). */
const statementNames = new Lru<string, string>(1000);

/** A query for `pg`: named after a hash of its text when it is to be prepared. */
export function pgQueryConfig(sql: string, params: readonly unknown[], opts?: QueryOptions): pg.QueryConfig {
  let name: string | undefined;
  if (opts?.prepare) {
    name = statementNames.get(sql);
    if (name === undefined) {
      name = `hms_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
      statementNames.set(sql, name);
    }
  }
  return { text: sql, values: params as unknown[], name };
}

// One set of type parsers for every pool, matching the embedded adapter (see types.ts).
const INT8 = 20;
const DATE = 1082;
const INTERVAL = 1186;
const INT8_ARRAY = 1016;
const TEXT_ARRAY = 1009;
const DATE_ARRAY = 1182;
const NUMERIC_ARRAY = 1231;
const builtin: (o: number, f?: 'text' | 'binary') => (value: string) => unknown = types.getTypeParser;
const textArray = builtin(TEXT_ARRAY) as (value: string) => (string | null)[];
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8) return (v: string) => Number(v);
    if (oid === DATE) return (v: string) => v;
    // arrays follow their elements (pg's own parsers give int8[] as strings, date[] as Dates and
    // numeric[] as floats, while PGlite and the scalars here give numbers and strings)
    if (oid === INT8_ARRAY) return (v: string) => textArray(v).map((e) => (e === null ? null : Number(e)));
    if (oid === DATE_ARRAY || oid === NUMERIC_ARRAY) return textArray;
    // PGlite answers the server's text form ('1 day 02:00:00'), not pg's PostgresInterval object
    if (oid === INTERVAL) return (v: string) => v;
    return builtin(oid, format);
  },
};

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

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const value = await fn(wrapClient(client));
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async withLock<T>(
    name: string,
    fn: (conn: Queryable) => Promise<T>,
    opts: { wait?: boolean } = {},
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const client = await this.pool.connect();
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
      client.release(broken);
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
