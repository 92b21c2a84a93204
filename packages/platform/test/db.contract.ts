import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kitMigrations, migrate, type Db, type Migration } from '@hms/platform';

/**
 * The ONE contract both database adapters are held to (DESIGN.md §1): the same tests run against
 * embedded PGlite and real PostgreSQL, so business code can never tell which one runs.
 */
export interface DbUnderTest {
  /** The Db of the service schema `contract_a`. */
  db: Db;
  /**
   * Another Db on the same embedded instance or the same database: with another schema it is
   * another service; with the same schema it is another replica of the same service.
   */
  open(schema: string): Db;
  /** Closes every Db handed out and the instance or database behind them. */
  close(): Promise<void>;
}

const notesMigration: Migration = {
  name: 'test/001_notes.sql',
  sql: 'CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL UNIQUE);',
};
// Records each time it runs: a migration applied twice would leave two rows (or fail).
const runsMigration: Migration = {
  name: 'test/002_runs.sql',
  sql: "CREATE TABLE migration_runs (note text NOT NULL);\nINSERT INTO migration_runs VALUES ('ran');",
};
const testMigrations = (): Migration[] => [...kitMigrations(), notesMigration, runsMigration];

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

export function describeDbContract(name: string, factory: () => Promise<DbUnderTest>): void {
  describe(`Db contract: ${name}`, () => {
    let under: DbUnderTest;
    let db: Db;
    let schemas = 0;
    /** A fresh service schema, so each migration test starts from nothing. */
    const freshSchema = () => `contract_m${++schemas}`;

    beforeAll(async () => {
      under = await factory();
      db = under.db;
      expect(db.schema).toBe('contract_a');
      await migrate(db, testMigrations());
    });
    afterAll(async () => {
      await under?.close();
    });

    test('answers a query with positional parameters', async () => {
      const { rows } = await db.query<{ sum: number; greeting: string; missing: null }>(
        'SELECT $1::int + $2::int AS sum, $3::text AS greeting, $4::text AS missing',
        [2, 3, "it's; DROP TABLE notes", null],
      );
      expect(rows).toEqual([{ sum: 5, greeting: "it's; DROP TABLE notes", missing: null }]);
      await db.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['params-1', 'params-2']);
      const found = await db.query<{ body: string }>(
        'SELECT body FROM notes WHERE body = ANY($1) ORDER BY body',
        [['params-2', 'params-1', 'absent']],
      );
      expect(found.rows.map((r) => r.body)).toEqual(['params-1', 'params-2']);
    });

    test('answers a prepared query like a plain one, again and again, inside transactions too', async () => {
      const sql = 'SELECT body FROM notes WHERE body = ANY($1) ORDER BY body';
      await db.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['prepared-1', 'prepared-2']);
      // more runs than PostgreSQL's five custom plans before it may switch to a generic one
      for (let i = 0; i < 8; i++) {
        const wanted = i % 2 === 0 ? ['prepared-1'] : ['prepared-1', 'prepared-2'];
        const { rows } = await db.query<{ body: string }>(sql, [wanted], { prepare: true });
        expect(rows.map((r) => r.body)).toEqual(wanted);
      }
      const inTx = await db.transaction((tx) =>
        tx.query<{ body: string }>(sql, [['prepared-2']], { prepare: true }),
      );
      expect(inTx.rows).toEqual([{ body: 'prepared-2' }]);
      // another text asking to be prepared is another statement, not a clash of names
      const other = await db.query<{ n: number }>(
        'SELECT count(*) AS n FROM notes WHERE body = ANY($1)',
        [['prepared-1']],
        {
          prepare: true,
        },
      );
      expect(other.rows).toEqual([{ n: 1 }]);
    });

    test('returns the same JavaScript types as the other adapter', async () => {
      const { rows } = await db.query(
        `SELECT 9007199254740991::int8 AS big, count(*) OVER () AS n, 42::int4 AS i, 2.5::float8 AS f,
                1.50::numeric AS num, true AS flag, 'a1b2c3d4-0000-4000-8000-000000000000'::uuid AS id,
                '2024-02-29'::date AS d, '2024-03-01T12:34:56.789Z'::timestamptz AS ts,
                '{"a": 1, "b": [true, null], "c": {"d": "é"}}'::jsonb AS doc, '[1, "x"]'::json AS list,
                ARRAY['x', 'y z', NULL]::text[] AS tags, ARRAY[1, 9007199254740991]::int8[] AS bigs,
                ARRAY['2024-01-02', '1999-12-31']::date[] AS dates, ARRAY[1.5, 2]::numeric[] AS nums,
                ARRAY['2024-03-01T12:34:56.789Z']::timestamptz[] AS times, interval '1 day 02:00:00' AS span,
                '\\x01ff'::bytea AS bytes, NULL::int8 AS nothing`,
      );
      expect(rows).toHaveLength(1);
      const row = rows[0] as Record<string, unknown>;
      expect(row).toEqual({
        big: 9007199254740991,
        n: 1,
        i: 42,
        f: 2.5,
        num: '1.50',
        flag: true,
        id: 'a1b2c3d4-0000-4000-8000-000000000000',
        d: '2024-02-29',
        ts: new Date('2024-03-01T12:34:56.789Z'),
        doc: { a: 1, b: [true, null], c: { d: 'é' } },
        list: [1, 'x'],
        tags: ['x', 'y z', null],
        bigs: [1, 9007199254740991],
        dates: ['2024-01-02', '1999-12-31'],
        nums: ['1.5', '2'],
        times: [new Date('2024-03-01T12:34:56.789Z')],
        span: '1 day 02:00:00',
        bytes: Buffer.from([0x01, 0xff]),
        nothing: null,
      });
      expect(row.ts).toBeInstanceOf(Date);
      expect(Buffer.isBuffer(row.bytes)).toBe(true);
    });

    test('round-trips parameters of every common type through a table', async () => {
      await db.exec(`CREATE TABLE typed (
        id int8 PRIMARY KEY, born date, at timestamptz, doc jsonb, tags text[], bigs int8[])`);
      const at = new Date('2025-06-30T23:59:59.123Z');
      await db.query('INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6)', [
        7,
        '1985-12-10',
        at,
        JSON.stringify({ nested: { ok: true }, list: [1, 2] }),
        ['a', 'b,c', 'd"e', "f'g"],
        [1, 2],
      ]);
      const { rows } = await db.query('SELECT * FROM typed WHERE id = $1 AND born = $2', [7, '1985-12-10']);
      expect(rows).toEqual([
        {
          id: 7,
          born: '1985-12-10',
          at,
          doc: { nested: { ok: true }, list: [1, 2] },
          tags: ['a', 'b,c', 'd"e', "f'g"],
          bigs: [1, 2],
        },
      ]);
    });

    test('reports rowCount for INSERT, UPDATE, DELETE and SELECT', async () => {
      await db.exec('CREATE TABLE counted (k int PRIMARY KEY, v text)');
      expect((await db.query("INSERT INTO counted VALUES (1, 'a'), (2, 'b'), (3, 'c')")).rowCount).toBe(3);
      expect((await db.query("INSERT INTO counted VALUES (1, 'x') ON CONFLICT DO NOTHING")).rowCount).toBe(0);
      expect((await db.query("UPDATE counted SET v = 'z' WHERE k >= 2")).rowCount).toBe(2);
      expect((await db.query("UPDATE counted SET v = 'z' WHERE k > 99")).rowCount).toBe(0);
      const returning = await db.query<{ k: number }>("UPDATE counted SET v = 'y' WHERE k = 1 RETURNING k");
      expect(returning).toEqual({ rows: [{ k: 1 }], rowCount: 1 });
      expect((await db.query('SELECT * FROM counted')).rowCount).toBe(3);
      expect((await db.query('SELECT * FROM counted WHERE false')).rowCount).toBe(0);
      expect((await db.query('DELETE FROM counted WHERE k = 3')).rowCount).toBe(1);
    });

    test('commits a transaction when its function resolves', async () => {
      const value = await db.transaction(async (tx) => {
        await tx.query("INSERT INTO notes (body) VALUES ('tx-commit-1')");
        await tx.query("INSERT INTO notes (body) VALUES ('tx-commit-2')");
        // a transaction reads its own writes
        const { rows } = await tx.query<{ n: number }>(
          "SELECT count(*) AS n FROM notes WHERE body LIKE 'tx-commit-%'",
        );
        return rows[0]?.n;
      });
      expect(value).toBe(2);
      const { rows } = await db.query("SELECT body FROM notes WHERE body LIKE 'tx-commit-%' ORDER BY body");
      expect(rows).toEqual([{ body: 'tx-commit-1' }, { body: 'tx-commit-2' }]);
    });

    test('rolls a transaction back when its function throws, and rethrows', async () => {
      const failure = new Error('business rule broken');
      const running = db.transaction(async (tx) => {
        await tx.query("INSERT INTO notes (body) VALUES ('tx-rollback-1')");
        await tx.exec("INSERT INTO notes (body) VALUES ('tx-rollback-2')");
        await sleep(50);
        throw failure;
      });
      // a reader outside the transaction never sees its uncommitted rows
      const outside = db.query("SELECT body FROM notes WHERE body LIKE 'tx-rollback-%'");
      await expect(running).rejects.toBe(failure);
      expect((await outside).rows).toEqual([]);
      expect((await db.query("SELECT body FROM notes WHERE body LIKE 'tx-rollback-%'")).rows).toEqual([]);
    });

    test('rolls a transaction back when a statement in it fails, with the SQLSTATE on the error', async () => {
      await db.query("INSERT INTO notes (body) VALUES ('tx-dup')");
      await expect(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO notes (body) VALUES ('tx-before-dup')");
          await tx.query("INSERT INTO notes (body) VALUES ('tx-dup')");
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await count(db, "notes WHERE body = 'tx-before-dup'")).toBe(0);
      // the adapter is usable afterwards
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    test('a deferred write commits with its transaction, in order, and one that fails fails it', async () => {
      // warm: on PostgreSQL a statement is deferred once the connection has prepared it
      for (let i = 0; i < 3; i++) {
        await db.transaction(async (tx) => {
          await tx.defer('INSERT INTO notes (body) VALUES ($1)', [`defer-ok-${i}`]);
          // a read issued after it sees it
          const { rows } = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM notes WHERE body = $1',
            [`defer-ok-${i}`],
          );
          expect(rows).toEqual([{ n: 1 }]);
          await tx.defer('INSERT INTO notes (body) VALUES ($1)', [`defer-ok-${i}-b`]);
        });
      }
      expect(await count(db, "notes WHERE body LIKE 'defer-ok-%'")).toBe(6);
      await db.query("INSERT INTO notes (body) VALUES ('defer-dup')");
      for (let i = 0; i < 3; i++) {
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO notes (body) VALUES ($1)', [`defer-before-dup-${i}`]);
            await tx.defer('INSERT INTO notes (body) VALUES ($1)', ['defer-dup']);
          }),
        ).rejects.toMatchObject({ code: '23505' });
      }
      expect(await count(db, "notes WHERE body LIKE 'defer-before-dup-%'")).toBe(0);
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    test('a deferred statement that answers rows fails its transaction clearly, and changes nothing', async () => {
      for (let i = 0; i < 3; i++) {
        // warm first (a statement is deferred on PostgreSQL once its connection has prepared it)
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO notes (body) VALUES ($1)', [`defer-rows-${i}`]);
            await tx.defer('SELECT pg_advisory_xact_lock($1)', [4242]);
            await tx.query('SELECT count(*) FROM notes WHERE body = $1', [`defer-rows-${i}`]);
          }),
        ).rejects.toMatchObject({ name: 'DeferredRowsError' });
        await expect(
          db.transaction(async (tx) => {
            await tx.defer('INSERT INTO notes (body) VALUES ($1) RETURNING id', [`defer-returning-${i}`]);
          }),
        ).rejects.toMatchObject({ name: 'DeferredRowsError' });
        // a SELECT that answers no row is a deferrable write (a lock taken without a row back)
        await db.transaction(async (tx) => {
          await tx.query('INSERT INTO notes (body) VALUES ($1)', [`kept-lock-${i}`]);
          await tx.defer(
            'WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock($1) AS n) SELECT FROM l WHERE false',
            [4243],
          );
          await tx.query('SELECT count(*) FROM notes WHERE body = $1', [`kept-lock-${i}`]);
        });
      }
      expect(await count(db, "notes WHERE body LIKE 'defer-r%'")).toBe(0);
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    test('exec runs a script of several statements, atomically', async () => {
      await db.exec(`
        CREATE TABLE scripted (n int PRIMARY KEY);
        INSERT INTO scripted VALUES (1);
        INSERT INTO scripted VALUES (2); INSERT INTO scripted VALUES (3);
      `);
      expect(await count(db, 'scripted')).toBe(3);
      await expect(
        db.exec(
          'INSERT INTO scripted VALUES (4); INSERT INTO scripted VALUES (1); INSERT INTO scripted VALUES (5);',
        ),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await count(db, 'scripted')).toBe(3);
      await db.transaction((tx) =>
        tx.exec('INSERT INTO scripted VALUES (6); INSERT INTO scripted VALUES (7);'),
      );
      expect(await count(db, 'scripted')).toBe(5);
    });

    test('migrate applies the kit migrations and then the service set, once each, in order', async () => {
      const svc = under.open(freshSchema());
      const applied = await migrate(svc, testMigrations());
      expect(applied).toEqual(testMigrations().map((m) => m.name));
      expect(applied.slice(0, 2)).toEqual(['kit/001_outbox.sql', 'kit/002_idempotency.sql']);
      expect(applied.slice(-2)).toEqual([notesMigration.name, runsMigration.name]);
      for (const table of ['outbox', 'idempotency_keys', 'notes', 'migration_runs', 'schema_migrations'])
        expect(await count(svc, table)).toBeGreaterThanOrEqual(0);
      const { rows } = await svc.query<{ name: string; applied_at: Date }>(
        'SELECT name, applied_at FROM schema_migrations ORDER BY name',
      );
      expect(rows.map((r) => r.name).sort()).toEqual(applied.slice().sort());
      expect(rows[0]?.applied_at).toBeInstanceOf(Date);
      // the tables live in the service schema, not in public
      const where = await svc.query<{ schema: string }>(
        "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'migration_runs'",
      );
      expect(where.rows).toContainEqual({ schema: svc.schema });
      expect(where.rows).not.toContainEqual({ schema: 'public' });
    });

    test('migrate is idempotent and later applies only what is new', async () => {
      const svc = under.open(freshSchema());
      expect(await migrate(svc, testMigrations())).toHaveLength(testMigrations().length);
      expect(await migrate(svc, testMigrations())).toEqual([]);
      expect(await count(svc, 'migration_runs')).toBe(1);
      const next = { name: 'test/003_more.sql', sql: 'ALTER TABLE notes ADD COLUMN extra text;' };
      expect(await migrate(svc, [...testMigrations(), next])).toEqual(['test/003_more.sql']);
      expect(await migrate(svc, [...testMigrations(), next])).toEqual([]);
    });

    test('migrate refuses a landed migration whose text was edited', async () => {
      const svc = under.open(freshSchema());
      await migrate(svc, testMigrations());
      const edited = testMigrations().map((m) =>
        m.name === notesMigration.name ? { ...m, sql: m.sql.replace('NOT NULL UNIQUE', 'NOT NULL') } : m,
      );
      await expect(migrate(svc, edited)).rejects.toThrow(/test\/001_notes\.sql was edited/);
      expect(await migrate(svc, testMigrations())).toEqual([]);
    });

    test('migrate stops at a failing migration, keeping the ones before it and none of it', async () => {
      const svc = under.open(freshSchema());
      const broken = { name: 'test/003_broken.sql', sql: 'CREATE TABLE half (n int);\nSELECT 1 / 0;' };
      await expect(migrate(svc, [...testMigrations(), broken])).rejects.toMatchObject({ code: '22012' });
      const { rows } = await svc.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).not.toContain(broken.name);
      expect(rows).toHaveLength(testMigrations().length);
      expect((await svc.query("SELECT to_regclass('half') AS t")).rows).toEqual([{ t: null }]);
    });

    test('two concurrent migrate() calls (two replicas) apply each migration exactly once', async () => {
      const schema = freshSchema();
      const replicaA = under.open(schema);
      const replicaB = under.open(schema);
      const [a, b] = await Promise.all([
        migrate(replicaA, testMigrations()),
        migrate(replicaB, testMigrations()),
      ]);
      expect([...a, ...b].sort()).toEqual(
        testMigrations()
          .map((m) => m.name)
          .sort(),
      );
      expect(await count(replicaA, 'migration_runs')).toBe(1);
      expect(await count(replicaB, 'schema_migrations')).toBe(testMigrations().length);
    });

    test('withLock serializes holders of the same lock across replicas', async () => {
      const replica = under.open(db.schema);
      const events: string[] = [];
      const holder = (who: string, conn: Db) =>
        conn.withLock('contract-job', async (q) => {
          events.push(`${who}:start`);
          await q.query('SELECT 1');
          await sleep(100);
          events.push(`${who}:end`);
          return who;
        });
      const first = holder('a', db);
      await sleep(20);
      const [ra, rb] = await Promise.all([first, holder('b', replica)]);
      expect(ra).toEqual({ acquired: true, value: 'a' });
      expect(rb).toEqual({ acquired: true, value: 'b' });
      expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
    });

    test('withLock with wait: false answers { acquired: false } while another holds the lock', async () => {
      const replica = under.open(db.schema);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const holding = db.withLock('contract-exclusive', async () => {
        entered();
        await gate;
        return 'held';
      });
      await inside;
      expect(await replica.withLock('contract-exclusive', async () => 'never', { wait: false })).toEqual({
        acquired: false,
      });
      expect(await db.withLock('contract-exclusive', async () => 'never', { wait: false })).toEqual({
        acquired: false,
      });
      // another lock name, and the same name in another service's schema, are not blocked
      expect(await replica.withLock('contract-other', async () => 1, { wait: false })).toEqual({
        acquired: true,
        value: 1,
      });
      const otherService = under.open('contract_b');
      expect(await otherService.withLock('contract-exclusive', async () => 2, { wait: false })).toEqual({
        acquired: true,
        value: 2,
      });
      release();
      expect(await holding).toEqual({ acquired: true, value: 'held' });
      expect(await replica.withLock('contract-exclusive', async () => 3, { wait: false })).toEqual({
        acquired: true,
        value: 3,
      });
    });

    test('withLock releases the lock when its function throws', async () => {
      const failure = new Error('job failed');
      await expect(
        db.withLock('contract-throws', async () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(
        await under.open(db.schema).withLock('contract-throws', async () => 'ok', { wait: false }),
      ).toEqual({
        acquired: true,
        value: 'ok',
      });
    });

    test('two services on one instance see only their own tables through unqualified names', async () => {
      const other = under.open('contract_b');
      await migrate(other, testMigrations());
      await db.query("INSERT INTO notes (body) VALUES ('isolation-a')");
      await other.query("INSERT INTO notes (body) VALUES ('isolation-b')");
      expect((await db.query("SELECT body FROM notes WHERE body LIKE 'isolation-%'")).rows).toEqual([
        { body: 'isolation-a' },
      ]);
      expect((await other.query('SELECT body FROM notes')).rows).toEqual([{ body: 'isolation-b' }]);
      await db.exec('CREATE TABLE only_in_a (n int)');
      await expect(other.query('SELECT * FROM only_in_a')).rejects.toMatchObject({ code: '42P01' });
      await expect(other.transaction((tx) => tx.query('SELECT * FROM only_in_a'))).rejects.toMatchObject({
        code: '42P01',
      });
      expect(await count(other, 'migration_runs')).toBe(1);
      expect(await count(db, 'migration_runs')).toBe(1);
    });

    test('refuses a schema name that is not a plain identifier', () => {
      expect(() => under.open('Bad-Name; DROP SCHEMA public')).toThrow(/invalid schema name/);
    });

    test('ping resolves while the database is up', async () => {
      await expect(db.ping()).resolves.toBeUndefined();
    });

    test('pg_trgm, unaccent, btree_gist and pgcrypto are usable once created in public', async () => {
      for (const ext of ['pg_trgm', 'unaccent', 'btree_gist', 'pgcrypto'])
        await db.exec(`CREATE EXTENSION IF NOT EXISTS ${ext} WITH SCHEMA public`);
      const { rows } = await db.query<{ sim: number; plain: string; digest: string }>(
        `SELECT similarity('hospital', 'hospitl') AS sim, unaccent('Hélène Müller-Ørsted') AS plain,
                encode(digest('abc', 'sha256'), 'hex') AS digest`,
      );
      expect(rows[0]?.sim).toBeGreaterThan(0.4);
      expect(rows[0]?.plain).toBe('Helene Muller-Orsted');
      expect(rows[0]?.digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      // a trigram index and an exclusion constraint over (=, &&), what double-booking checks use
      await db.exec(`
        CREATE TABLE bookings (room int NOT NULL, during tstzrange NOT NULL,
          EXCLUDE USING gist (room WITH =, during WITH &&));
        CREATE INDEX bookings_trgm ON notes USING gin (body gin_trgm_ops);
        INSERT INTO bookings VALUES (1, '[2025-01-01 09:00Z, 2025-01-01 10:00Z)');
        INSERT INTO bookings VALUES (2, '[2025-01-01 09:00Z, 2025-01-01 10:00Z)');
        INSERT INTO bookings VALUES (1, '[2025-01-01 10:00Z, 2025-01-01 11:00Z)');
      `);
      await expect(
        db.query("INSERT INTO bookings VALUES (1, '[2025-01-01 09:30Z, 2025-01-01 09:45Z)')"),
      ).rejects.toMatchObject({ code: '23P01' });
      expect(await count(db, 'bookings')).toBe(3);
      const random = await db.query<{ id: string }>('SELECT gen_random_uuid()::text AS id');
      expect(random.rows[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
}
