import { createHash } from 'node:crypto';
import { prepareDatabase, PostgresDb } from '@hms/platform';
import { patientService } from '@hms/patient';
import pg from 'pg';

/** Bump when the generated rows change, so an old database is not reused by mistake. */
const SEED_VERSION = 1;

export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  // the search path the Patient service's own connections have (its triggers run with it)
  const c = new pg.Client({ connectionString: url, options: '-c search_path=patient,public' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The seed's version, the row count and the service's migrations: a change to any of them reseeds. */
const fingerprint = (patients: number) => {
  const migrations = createHash('sha256')
    .update(
      patientService
        .migrations()
        .map((m) => m.sql)
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 12);
  return `hms-bench gateway seed v${SEED_VERSION} patients=${patients} migrations=${migrations}`;
};

/**
 * N synthetic patients in one set-based statement; ids, MRNs and fields derive from the row
 * number, so the data are a pure function of N.
 */
const INSERT_SQL = `
INSERT INTO patient.patients (id, mrn, given_name, family_name, birth_date, sex, phone, email, address,
                              insurance, allergies, conditions, status, version, created_at, updated_at)
SELECT md5('patient' || g)::uuid,
       'MRN' || lpad((1000000 + g)::text, 9, '0'),
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','John'])[1 + g % 8],
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Backus'])[1 + (g / 8) % 8] || g,
       date '1935-01-01' + (g * 7919) % 32872,
       CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END,
       '+1 555 ' || lpad((g % 10000)::text, 4, '0'),
       'patient' || g || '@example.org',
       jsonb_build_object('line1', g || ' Main St', 'city', 'Springfield', 'postalCode',
                          lpad((g % 100000)::text, 5, '0'), 'country', 'US'),
       CASE WHEN g % 5 < 3 THEN jsonb_build_object('payer', 'Medicare', 'memberId', 'M' || g) END,
       CASE WHEN g % 7 = 0 THEN '[{"substance": "Penicillin", "severity": "moderate"}]'::jsonb
            ELSE '[]'::jsonb END,
       '[]'::jsonb, 'active', 1,
       timestamptz '2015-01-01 00:00:00+00' + make_interval(hours => g),
       timestamptz '2015-01-01 00:00:00+00' + make_interval(hours => g)
  FROM generate_series(1, $1::int) AS g`;

/**
 * Makes `name` hold exactly `patients` seeded patients in the Patient service's own schema (its
 * migrations applied through the kit, as the service applies them at start); reuses a complete
 * earlier seeding.
 */
export async function ensureSeeded(
  serverUrl: string,
  name: string,
  patients: number,
): Promise<{ reused: boolean; seconds: number }> {
  const url = databaseUrl(serverUrl, name);
  const t0 = performance.now();
  const comment = await withClient(serverUrl, async (c) => {
    const { rows } = await c.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    );
    return rows[0]?.comment;
  });
  if (comment === fingerprint(patients)) {
    const n = await withClient(url, async (c) => {
      const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM patient.patients');
      return Number(rows[0]?.n);
    });
    if (n === patients) return { reused: true, seconds: 0 };
  }
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const db = new PostgresDb({ url, schema: 'patient', poolMax: 2 });
  try {
    await prepareDatabase(patientService, db);
  } finally {
    await db.close();
  }
  await withClient(url, async (c) => {
    await c.query(INSERT_SQL, [patients]);
    await c.query(`SELECT setval('patient.patient_mrn_seq', $1::bigint)`, [1000000 + patients]);
    await c.query('VACUUM (ANALYZE)');
  });
  await withClient(serverUrl, (c) => c.query(`COMMENT ON DATABASE ${name} IS '${fingerprint(patients)}'`));
  return { reused: false, seconds: (performance.now() - t0) / 1000 };
}

export async function patientIds(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ id: string }>('SELECT id FROM patient.patients ORDER BY md5(id::text)');
    return rows.map((r) => r.id);
  });
}
