import { EmbeddedPostgres, type Db } from '@hms/platform';
import { describeDbContract } from './db.contract.js';

// One in-memory PGlite shared by every schema, as the embedded launcher runs it.
describeDbContract('EmbeddedDb (PGlite, in memory)', async () => {
  const pg = await EmbeddedPostgres.open();
  const opened: Db[] = [];
  const open = (schema: string) => {
    const db = pg.forService(schema);
    opened.push(db);
    return db;
  };
  return {
    db: open('contract_a'),
    open,
    async close() {
      for (const db of opened) await db.close();
      await pg.close();
    },
  };
});
