import { describe, test } from 'vitest';
import { PostgresDb, type Db } from '@hms/platform';
import { createThrowawayDatabase, testServerUrl } from '@hms/testkit';
import { describeDbContract } from './db.contract.js';

// Unset TEST_DATABASE_URL skips this file locally; under CI=true testServerUrl() throws instead.
const server = testServerUrl();

if (server) {
  describeDbContract('PostgresDb (real PostgreSQL, throwaway database)', async () => {
    const database = await createThrowawayDatabase(server, 'hms_contract');
    const opened: PostgresDb[] = [];
    const open = (schema: string): Db => {
      const db = new PostgresDb({ url: database.url, schema, poolMax: 4 });
      opened.push(db);
      return db;
    };
    return {
      db: open('contract_a'),
      open,
      async close() {
        for (const db of opened) await db.close();
        await database.drop();
      },
    };
  });
} else {
  const reason = 'TEST_DATABASE_URL is not set, so there is no PostgreSQL server to run against';
  console.warn(`db.postgres.test.ts skipped: ${reason}`);
  describe('Db contract: PostgresDb', () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
}
