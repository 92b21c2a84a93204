import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import type { Db, QueryResult, Queryable, Tx } from './types.js';
import { DeferredRowsError, assertDeferrable, assertSchemaName } from './types.js';

const parsers = {
  [types.INT8]: (v: string) => Number(v),
  [types.DATE]: (v: string) => v,
  // pg answers bytea as a Buffer; PGlite's own parser gives a plain Uint8Array
  [types.BYTEA]: (v: string) => Buffer.from(v.slice(2), 'hex'),
};

/**
 * ONE embedded PostgreSQL for every service of the process (DESIGN.md §1: a PGlite instance
 * costs ~2 s and ~300 MB, so eleven would not fit a laptop). Each service gets an `EmbeddedDb`
 * bound to its own schema.
 */
export class EmbeddedPostgres {
  /** Advisory locks by `<schema>:<name>`: shared by every EmbeddedDb of the instance, like the server's. */
  readonly locks = new Map<string, Promise<void>>();

  private constructor(readonly pglite: PGlite) {}

  /**
   * `dataDir` undefined keeps everything in memory (tests). `template` (a `dump()` of another
   * instance) fills a data dir that holds no cluster yet, instead of an empty cluster: the
   * embedded launcher's first start loads one already migrated at build time.
   */
  static async open(dataDir?: string, opts: { template?: Blob | undefined } = {}): Promise<EmbeddedPostgres> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
    const pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(fresh && opts.template ? { loadDataDir: opts.template } : {}),
      extensions: { pg_trgm, unaccent, btree_gist, pgcrypto },
      parsers,
    });
    return new EmbeddedPostgres(pglite);
  }

  /** The whole cluster as a gzipped tarball, for `open(dir, { template })`. */
  async dump(): Promise<Blob> {
    return this.pglite.dumpDataDir('gzip');
  }

  forService(schema: string): EmbeddedDb {
    return new EmbeddedDb(this, schema);
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

/**
 * A service's view of the shared PGlite. PGlite has one connection, so every statement runs in a
 * short transaction that first sets `search_path` to the service schema (SET LOCAL), and the
 * connection's mutex serializes them. Never hold a transaction across a call to another service:
 * it would block every service of the process.
 */
export class EmbeddedDb implements Db {
  readonly kind = 'embedded' as const;
  private readonly setPath: string;

  constructor(
    private readonly pg: EmbeddedPostgres,
    readonly schema: string,
  ) {
    assertSchemaName(schema);
    this.setPath = `SET LOCAL search_path TO ${schema}, public`;
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.transaction((tx) => tx.query<R>(sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.transaction((tx) => tx.exec(sql));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.pg.pglite.transaction(async (t) => {
      await t.exec(this.setPath);
      return fn(wrapTx(t));
    });
  }

  /**
   * One process holds every service here, so an in-process mutex is the advisory lock. It lives
   * on the shared instance and is keyed by schema, as the server's lock is, so every EmbeddedDb of
   * the same service (replicas in a test, a scheduler) excludes the others.
   */
  async withLock<T>(
    name: string,
    fn: (conn: Queryable) => Promise<T>,
    opts: { wait?: boolean } = {},
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const locks = this.pg.locks;
    const key = `${this.schema}:${name}`;
    let held = locks.get(key);
    if (held && opts.wait === false) return { acquired: false };
    while (held) {
      await held;
      held = locks.get(key);
    }
    let release!: () => void;
    locks.set(key, new Promise<void>((r) => (release = r)));
    try {
      return { acquired: true, value: await fn(this) };
    } finally {
      locks.delete(key);
      release();
    }
  }

  async ping(): Promise<void> {
    await this.pg.pglite.query('SELECT 1');
  }

  /** The shared instance outlives a service; `EmbeddedPostgres.close()` ends it. */
  async close(): Promise<void> {}
}

function wrapTx(t: Transaction): Tx {
  return {
    async defer(sql: string, params: readonly unknown[] = []) {
      assertDeferrable(sql);
      const res = await t.query(sql, params as unknown[]);
      if (res.rows.length > 0) throw new DeferredRowsError();
    },
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const res = await t.query<R>(sql, params as unknown[]);
      // PGlite reports affectedRows for writes and 0 for reads; pg's rowCount is either
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(sql: string) {
      await t.exec(sql);
    },
  };
}
