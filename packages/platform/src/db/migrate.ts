import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './types.js';

export interface Migration {
  /** `<set>/<NNN_name.sql>`, e.g. `kit/001_outbox.sql` or `service/001_patients.sql` */
  name: string;
  sql: string;
}

const FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** Reads `NNN_name.sql` files of a folder in order. */
export function readMigrations(dir: URL | string, set: string): Migration[] {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<string>();
  return files.map((f) => {
    const m = FILE.exec(f);
    if (!m) throw new Error(`migration file name must be NNN_name.sql: ${set}/${f}`);
    if (seen.has(m[1] ?? '')) throw new Error(`two migrations numbered ${m[1]} in ${set}`);
    seen.add(m[1] ?? '');
    return { name: `${set}/${f}`, sql: readFileSync(`${path}/${f}`, 'utf8') };
  });
}

/** The kit's own tables (outbox, inbox, idempotency keys), applied to every service schema first. */
export function kitMigrations(): Migration[] {
  return readMigrations(new URL('../../migrations/', import.meta.url), 'kit');
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Applies pending migrations under an advisory lock, each in its own transaction, so replicas
 * starting together apply each one exactly once. A landed migration whose text has changed stops
 * the start: migrations are never edited once landed (STYLE.md §5).
 */
export async function migrate(db: Db, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  const result = await db.withLock('migrations', async (conn) => {
    await conn.exec(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await db.transaction((tx) =>
      tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`),
    );
    const { rows } = await db.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    for (const m of migrations) {
      const sum = checksum(m.sql);
      const landed = done.get(m.name);
      if (landed !== undefined) {
        if (landed !== sum) throw new Error(`migration ${m.name} was edited after it was applied`);
        continue;
      }
      await db.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, sum]);
      });
      applied.push(m.name);
    }
  });
  if (!result.acquired) throw new Error('could not take the migration lock');
  return applied;
}
