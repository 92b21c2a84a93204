import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EmbeddedPostgres, PostgresDb, type Db } from '@hms/platform';

export interface TestDatabase {
  db: Db;
  /** Connection URL of the real database (undefined when embedded). */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * The PostgreSQL server tests run against: `TEST_DATABASE_URL` (any database on the server; used
 * to create throwaway ones). Unset, tests use embedded PGlite, except under CI, where a missing
 * server is a failure rather than a silent fallback.
 */
export function testServerUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (!url && process.env.CI === 'true')
    throw new Error('TEST_DATABASE_URL must be set in CI: tests run against real PostgreSQL');
  return url || undefined;
}

/** A fresh, empty database on the test server, dropped again by `drop()`. */
export async function createThrowawayDatabase(serverUrl: string, prefix: string) {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A database for one service under test: real PostgreSQL when configured, else embedded. */
export async function createTestDatabase(
  schema: string,
  kind: 'auto' | 'postgres' | 'embedded' = 'auto',
): Promise<TestDatabase> {
  const server = kind === 'embedded' ? undefined : testServerUrl();
  if (kind === 'postgres' && !server) throw new Error('TEST_DATABASE_URL is not set');
  if (server) {
    const tmp = await createThrowawayDatabase(server, `hms_test_${schema}`);
    const db = new PostgresDb({ url: tmp.url, schema, poolMax: 5 });
    return {
      db,
      url: tmp.url,
      async close() {
        await db.close();
        await tmp.drop();
      },
    };
  }
  const embedded = await EmbeddedPostgres.open();
  return { db: embedded.forService(schema), url: undefined, close: () => embedded.close() };
}
