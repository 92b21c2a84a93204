import { patientService } from '@hms/patient';
import { allMigrations, migrate, PostgresDb, uuidv7 } from '@hms/platform';
import pg from 'pg';
import { othersCpu, percentile } from '@hms/testkit';
import { FAMILY, FEMALE_GIVEN } from './names.js';
import { databaseUrl, insertPatients } from './seed.js';

/**
 * Write cost of migration 002_patient_search.sql: its names trigger and two covering indexes,
 * against the four prefix and trigram indexes it drops.
 *
 * One scratch database, two schemas migrated by the kit: `before` with every Patient migration
 * up to 002 (excluded), `after` with all of them. Both are loaded with the same seeded patients
 * (the load is timed: a bulk insert fires the trigger once per row), vacuumed, and then the same
 * statements run on both, one at a time, each side from a connection of its own, in rounds that
 * alternate which side goes first. Each statement is timed on its own:
 *
 * - `insert`: a new patient, the columns the service writes; every second one carries a family
 *   name nobody had (a new entry in `patient_names` and its indexes), the others a common one;
 * - `rename`: given and family name of an existing patient changed (the update trigger fires);
 * - `update`: the phone number changed (the update trigger's WHEN skips it);
 *
 * all three inside transactions of one round's statements (their cost without the commit's
 * disk sync), and `insert+commit`: an insert committed on its own, as a registration commits.
 */
export const WRITES_DATABASE = 'hms_bench_patient_writes';

const KINDS = ['insert', 'rename', 'update', 'insert+commit'] as const;
type Kind = (typeof KINDS)[number];
const SIDES = ['before', 'after'] as const;
type Side = (typeof SIDES)[number];

export interface WriteStats {
  statements: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
}

export interface WriteCostReport {
  preloadPatients: number;
  rounds: number;
  /** seconds to load the seeded patients in one INSERT … SELECT, per side */
  loadSeconds: Record<Side, number>;
  results: { kind: Kind; before: WriteStats; after: WriteStats; deltaMeanMs: number }[];
  /** share of the CPU other processes took while the statements ran (percent) */
  othersCpuPct: number | undefined;
}

function stats(latencies: number[]): WriteStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    statements: sorted.length,
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
  };
}

const INSERT = `INSERT INTO patients (id, mrn, given_name, family_name, birth_date, sex, phone, email, allergies, conditions)
  VALUES ($1, $2, $3, $4, $5, 'female', $6, $7, '[]', '[]')`;
const RENAME = `UPDATE patients SET given_name = $2, family_name = $3, version = version + 1, updated_at = now()
  WHERE id = $1`;
const UPDATE = `UPDATE patients SET phone = $2, version = version + 1, updated_at = now() WHERE id = $1`;

/** Statements `from` … `from + n - 1` of a kind: the same values on both sides, never repeated. */
function statementsOf(kind: Kind, from: number, n: number, ids: string[]): unknown[][] {
  const pick = <T>(list: readonly T[], i: number): T => list[(i * 7919) % list.length] as T;
  const k = KINDS.indexOf(kind);
  return Array.from({ length: n }, (_, i) => {
    const g = from + i;
    switch (kind) {
      case 'insert':
      case 'insert+commit': {
        const family = g % 2 === 0 ? `Newname${k}x${g.toString(36)}` : pick(FAMILY, g);
        const mrn = `W${k}-${g}`;
        return [
          uuidv7(),
          mrn,
          pick(FEMALE_GIVEN, g),
          family,
          '1980-05-17',
          '+1 555 0100',
          `${mrn}@example.org`,
        ];
      }
      case 'rename': // a patient is renamed at most once while fewer than ids.length renames run
        return [pick(ids, g), pick(FEMALE_GIVEN, g + 1), pick(FAMILY, g + 3)];
      case 'update':
        return [pick(ids, g + 11), `+1 555 ${String(1000 + (g % 9000))}`];
    }
  });
}

const SQL: Record<Kind, string> = { insert: INSERT, 'insert+commit': INSERT, rename: RENAME, update: UPDATE };

async function timedStatements(c: pg.Client, kind: Kind, statements: unknown[][]): Promise<number[]> {
  const inTransaction = kind !== 'insert+commit';
  const out: number[] = [];
  if (inTransaction) await c.query('BEGIN');
  for (const params of statements) {
    const t0 = performance.now();
    await c.query(SQL[kind], params);
    out.push(performance.now() - t0);
  }
  if (inTransaction) await c.query('COMMIT');
  return out;
}

export async function measureWriteCost(
  serverUrl: string,
  opts: { preload: number; perKind: number; rounds: number },
): Promise<WriteCostReport> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${WRITES_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${WRITES_DATABASE}`);
  const url = databaseUrl(serverUrl, WRITES_DATABASE);
  const clients = {} as Record<Side, pg.Client>;
  const loadSeconds = {} as Record<Side, number>;
  try {
    const migrations = allMigrations(patientService);
    const upTo002 = migrations.findIndex((m) => m.name === 'patient/002_patient_search.sql');
    if (upTo002 < 0) throw new Error('migration patient/002_patient_search.sql not found');
    for (const side of SIDES) {
      const db = new PostgresDb({ url, schema: side, poolMax: 2 });
      try {
        await migrate(db, side === 'before' ? migrations.slice(0, upTo002) : migrations);
      } finally {
        await db.close();
      }
      const c = new pg.Client({ connectionString: url, options: `-c search_path=${side},public` });
      await c.connect();
      clients[side] = c;
      const t0 = performance.now();
      await insertPatients(c, opts.preload);
      loadSeconds[side] = (performance.now() - t0) / 1000;
      await c.query('VACUUM (ANALYZE) patients');
      process.stdout.write(
        `  ${side}: ${opts.preload} patients loaded in ${loadSeconds[side].toFixed(1)} s\n`,
      );
    }
    const { rows } = await clients.before.query<{ id: string }>(
      'SELECT id FROM patients TABLESAMPLE SYSTEM (5) REPEATABLE (42) LIMIT 5000',
    );
    const ids = rows.map((r) => r.id);
    const latencies = new Map<string, number[]>();
    const perRound = Math.max(1, Math.ceil(opts.perKind / opts.rounds));
    const rounds = async () => {
      for (let round = 0; round < opts.rounds; round++) {
        const order = round % 2 === 0 ? SIDES : [...SIDES].reverse();
        for (const kind of KINDS) {
          const n = kind === 'insert+commit' ? Math.ceil(perRound / 4) : perRound;
          const statements = statementsOf(kind, round * n, n, ids);
          for (const side of order) {
            const key = `${kind}/${side}`;
            latencies.set(key, [
              ...(latencies.get(key) ?? []),
              ...(await timedStatements(clients[side], kind, statements)),
            ]);
          }
        }
      }
    };
    // ours: this process and the two sides' backends
    const backends = await Promise.all(
      SIDES.map(async (side) => {
        const { rows: pid } = await clients[side].query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        return pid[0]?.pid ?? 0;
      }),
    );
    const { othersPct } = await othersCpu(async () => [process.pid, ...backends], rounds);
    const results = KINDS.map((kind) => {
      const before = stats(latencies.get(`${kind}/before`) ?? []);
      const after = stats(latencies.get(`${kind}/after`) ?? []);
      return { kind, before, after, deltaMeanMs: after.meanMs - before.meanMs };
    });
    return {
      preloadPatients: opts.preload,
      rounds: opts.rounds,
      loadSeconds,
      results,
      othersCpuPct: othersPct,
    };
  } finally {
    for (const c of Object.values(clients)) await c.end();
    await admin.query(`DROP DATABASE IF EXISTS ${WRITES_DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}
