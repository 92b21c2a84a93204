import { EmbeddedPostgres, PostgresDb, type Db, type Tx } from '@hms/platform';
import { createThrowawayDatabase, testServerUrl } from '@hms/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';

/**
 * The producer transaction on PostgreSQL (db/postgres.ts): BEGIN goes out with the first
 * statement, and a statement deferred with `tx.defer` (appendToOutbox's outbox INSERT) with
 * the transaction's next statement or its COMMIT. What must hold whatever is sent together:
 * every statement runs inside the transaction, in the order issued, and a failure of any of them
 * fails and rolls back the whole transaction. One connection (poolMax 1), so that the later
 * transactions run on a connection with BEGIN and the statements prepared, where they pipeline.
 */
const server = testServerUrl();

const TABLE = `CREATE TABLE rows_ (n bigserial PRIMARY KEY, tag text NOT NULL, k text UNIQUE)`;
const INSERT = 'INSERT INTO rows_ (tag, k) VALUES ($1, $2)';

function insert(tx: Tx, tag: string, k: string | null = null) {
  return tx.query(INSERT, [tag, k]);
}

async function tags(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ tag: string }>('SELECT tag FROM rows_ ORDER BY n');
  return rows.map((r) => r.tag);
}

if (server) {
  describe('PostgresDb transactions: BEGIN with the first statement, deferred statements', () => {
    let database: Awaited<ReturnType<typeof createThrowawayDatabase>>;
    let db: PostgresDb;
    /** ReadyForQuery messages on the pool's one connection: the round trips it made. */
    let roundTrips = 0;

    beforeAll(async () => {
      database = await createThrowawayDatabase(server, 'hms_outbox_tx');
      db = new PostgresDb({ url: database.url, schema: 'public', poolMax: 1 });
      const pool = (db as unknown as { pool: pg.Pool }).pool;
      pool.on('connect', (client) => {
        const conn = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
        conn.on('readyForQuery', () => (roundTrips += 1));
      });
      await db.exec(TABLE);
    });
    afterAll(async () => {
      await db?.close();
      await database?.drop();
    });
    beforeEach(async () => {
      await db.query('TRUNCATE rows_');
      // the connection's first transaction prepares BEGIN, COMMIT and the statements used below
      await db.transaction(async (tx) => {
        await insert(tx, 'warm');
        await tx.defer(INSERT, ['warm', null]);
      });
      await db.query('TRUNCATE rows_');
    });

    test('a row, a deferred row and COMMIT take two round trips, and both rows commit', async () => {
      const before = roundTrips;
      await db.transaction(async (tx) => {
        await insert(tx, 'a');
        await tx.defer(INSERT, ['b', null]);
      });
      expect(roundTrips - before).toBe(2);
      expect(await tags(db)).toEqual(['a', 'b']);
    });

    test('every statement, the first included, runs in one transaction', async () => {
      const ids = await db.transaction(async (tx) => {
        const first = await tx.query<{ x: string }>(
          'SELECT txid_current()::text AS x WHERE $1::int = 1',
          [1],
        );
        const second = await tx.query<{ x: string }>('SELECT txid_current()::text AS x');
        return [first.rows[0]?.x, second.rows[0]?.x];
      });
      expect(ids[0]).toBeDefined();
      expect(ids[0]).toBe(ids[1]);
      const other = await db.transaction((tx) =>
        tx.query<{ x: string }>('SELECT txid_current()::text AS x WHERE $1::int = 1', [1]),
      );
      expect(other.rows[0]?.x).not.toBe(ids[0]);
    });

    test('a throw after the first statement rolls it back', async () => {
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'gone');
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'gone too');
          await tx.query('SELECT 1 / 0 WHERE $1::int = 1', [1]);
        }),
      ).rejects.toMatchObject({ code: '22012' });
      expect(await tags(db)).toEqual([]);
      // the connection is clean for the next transaction
      await db.transaction((tx) => insert(tx, 'after'));
      expect(await tags(db)).toEqual(['after']);
    });

    test('a first statement without parameters (sent on its own) is inside the transaction too', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.exec(`INSERT INTO rows_ (tag) VALUES ('script')`);
          await tx.query(`INSERT INTO rows_ (tag) VALUES ('plain')`);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await tags(db)).toEqual([]);
    });

    test('statements issued at once run in the order issued', async () => {
      await db.transaction(async (tx) => {
        await Promise.all([
          insert(tx, '1'),
          tx.query(`INSERT INTO rows_ (tag) VALUES ('2')`),
          tx.defer(INSERT, ['3', null]),
          insert(tx, '4'),
        ]);
        await tx.defer(INSERT, ['5', null]);
        await Promise.all([insert(tx, '6'), tx.defer(INSERT, ['7', null]), insert(tx, '8')]);
      });
      expect(await tags(db)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    });

    test('a deferred row is there for the statements issued after it', async () => {
      const seen = await db.transaction(async (tx) => {
        await insert(tx, 'a');
        await tx.defer(INSERT, ['b', null]);
        const { rows } = await tx.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM rows_ WHERE tag = $1',
          ['b'],
        );
        return rows[0]?.n;
      });
      expect(seen).toBe(1);
    });

    test('a deferred statement that fails fails the transaction with its error, and nothing commits', async () => {
      await db.transaction((tx) => insert(tx, 'taken', 'k1'));
      // deferred, then COMMIT
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'x');
          await tx.defer(INSERT, ['dup', 'k1']);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      // deferred, then another statement
      await expect(
        db.transaction(async (tx) => {
          await tx.defer(INSERT, ['dup', 'k1']);
          await insert(tx, 'y');
        }),
      ).rejects.toMatchObject({ code: '23505' });
      // deferred, then a statement without parameters (the deferred one goes first, on its own)
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'z');
          await tx.defer(INSERT, ['dup', 'k1']);
          await tx.query(`INSERT INTO rows_ (tag) VALUES ('w')`).catch(() => undefined);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await tags(db)).toEqual(['taken']);
    });

    test('a transaction of one deferred statement commits it; a throw after deferring sends nothing', async () => {
      const before = roundTrips;
      await db.transaction((tx) => tx.defer(INSERT, ['only', null]));
      expect(roundTrips - before).toBe(1); // BEGIN, the row and COMMIT together
      await expect(
        db.transaction(async (tx) => {
          await tx.defer(INSERT, ['never', null]);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await tags(db)).toEqual(['only']);
    });

    test('a transaction that runs no statement sends nothing and answers its value', async () => {
      const before = roundTrips;
      expect(await db.transaction(async () => 42)).toBe(42);
      expect(roundTrips - before).toBe(0);
      await db.transaction((tx) => insert(tx, 'next'));
      expect(await tags(db)).toEqual(['next']);
    });
  });
} else {
  const reason = 'TEST_DATABASE_URL is not set, so there is no PostgreSQL server to run against';
  console.warn(`transaction.postgres.test.ts skipped: ${reason}`);
  describe('PostgresDb transactions', () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
}

describe('tx.defer on PGlite', () => {
  test('runs the statement at once, inside the transaction', async () => {
    const embedded = await EmbeddedPostgres.open();
    const db = embedded.forService('public');
    try {
      await db.exec(TABLE);
      await expect(
        db.transaction(async (tx) => {
          await tx.defer(INSERT, ['rolled back', null]);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await db.transaction((tx) => tx.defer(INSERT, ['kept', null]));
      expect(await tags(db)).toEqual(['kept']);
    } finally {
      await embedded.close();
    }
  });
});
