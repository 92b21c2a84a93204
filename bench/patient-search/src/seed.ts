import { createHash } from 'node:crypto';
import { allMigrations, prepareDatabase, PostgresDb } from '@hms/platform';
import { formatMrn, patientService } from '@hms/patient';
import pg from 'pg';
import { FAMILY, FEMALE_GIVEN, MALE_GIVEN } from './names.js';

/**
 * Seeding of the benchmark database: the Patient service's own migrations (through the kit, as a
 * service applies them at start), then N synthetic patients inserted by one set-based statement.
 *
 * The data are a pure function of N: `setseed()` fixes `random()` for the session, ids and
 * timestamps derive from the row number, so two seedings of the same N hold the same rows.
 */

/** Bump when the generated data change, so an old database is not reused by mistake. */
const SEED_VERSION = 1;

/** First MRN sequence number, as `patient_mrn_seq` starts (migrations/001_patients.sql). */
export const MRN_BASE = 1_000_000;

/** MRN of the n-th seeded patient (1-based): `MRN` + 8 digits + check digit. */
export function mrnOf(n: number): string {
  return formatMrn(MRN_BASE + n);
}

export interface SeedReport {
  reused: boolean;
  patients: number;
  seconds: number;
  steps: { step: string; seconds: number }[];
  tableBytes: number;
  indexBytes: number;
}

export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function fingerprint(patients: number): string {
  const migrations = allMigrations(patientService)
    .map((m) => `${m.name}\n${m.sql}`)
    .join('\n');
  const names = JSON.stringify([FEMALE_GIVEN, MALE_GIVEN, FAMILY]);
  const hash = createHash('sha256').update(migrations).update(names).digest('hex').slice(0, 16);
  return `hms-bench patient-search seed v${SEED_VERSION} patients=${patients} hash=${hash}`;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Whether `name` exists and carries the fingerprint of a complete seeding of `patients` rows. */
async function seededAlready(serverUrl: string, name: string, patients: number): Promise<boolean> {
  const comment = await withClient(serverUrl, async (c) => {
    const { rows } = await c.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    );
    return rows.length === 0 ? undefined : (rows[0]?.comment ?? null);
  });
  if (comment !== fingerprint(patients)) return false;
  // the comment is written last; the count is checked anyway (someone may have written rows)
  return withClient(databaseUrl(serverUrl, name), async (c) => {
    const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM patient.patients');
    return Number(rows[0]?.n) === patients;
  });
}

/**
 * Row generator. Names are drawn with a mild skew (index = floor(n * u^1.2)): the most common
 * family name holds about 0.9 % of the population and the rarest about 0.3 %, close to the head
 * of real surname distributions. Birth dates span 90 years (1935-01-01 .. 2024-12-31),
 * registrations (created_at, and the UUIDv7 time prefix) ten years in row order.
 */
const INSERT_SQL = `
WITH rows AS (
  SELECT g,
         random() AS r_sex, random() AS r_given, random() AS r_family, random() AS r_birth,
         random() AS r_phone, random() AS r_email, random() AS r_addr, random() AS r_ins,
         random() AS r_allergy, random() AS r_status, random() AS r_street, random() AS r_city,
         random() AS r_variant,
         timestamptz '2015-01-01 00:00:00+00' + make_interval(secs => (g - 1) * (315360000.0 / $1::int)) AS created
    FROM generate_series(1, $1::int) AS g
), people AS (
  SELECT rows.*,
         CASE WHEN r_sex < 0.49 THEN 'female' WHEN r_sex < 0.98 THEN 'male'
              WHEN r_sex < 0.99 THEN 'other' ELSE 'unknown' END AS sex,
         CASE WHEN r_sex < 0.49 OR (r_sex >= 0.98 AND r_sex < 0.99)
              THEN ($2::text[])[1 + floor(cardinality($2::text[]) * power(r_given, 1.2))::int]
              ELSE ($3::text[])[1 + floor(cardinality($3::text[]) * power(r_given, 1.2))::int] END AS given,
         ($4::text[])[1 + floor(cardinality($4::text[]) * power(r_family, 1.2))::int] AS family,
         md5(g::text) AS h
    FROM rows
)
INSERT INTO patients (id, mrn, given_name, family_name, birth_date, sex, phone, email, address,
                      emergency_contact, insurance, allergies, conditions, status, version,
                      created_at, updated_at)
SELECT
  (lpad(to_hex((extract(epoch FROM created) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
     || substr('89ab', 1 + floor(r_variant * 4)::int, 1) || substr(h, 4, 15))::uuid,
  'MRN' || lpad(($5::int + g)::text, 8, '0') || pg_temp.luhn(lpad(($5::int + g)::text, 8, '0')),
  given, family,
  date '1935-01-01' + floor(r_birth * 32872)::int,
  sex,
  CASE WHEN r_phone < 0.85 THEN '+1 ' || (200 + floor(r_phone * 940)::int) || ' 555 '
       || lpad((g % 10000)::text, 4, '0') END,
  CASE WHEN r_email < 0.70 THEN regexp_replace(name_fold(given), '[^a-z0-9]', '', 'g') || '.'
       || regexp_replace(name_fold(family), '[^a-z0-9]', '', 'g') || g || '@example.org' END,
  CASE WHEN r_addr < 0.90 THEN jsonb_build_object(
         'line1', (1 + floor(r_addr * 9000)::int) || ' ' || ($6::text[])[1 + floor(r_street * cardinality($6::text[]))::int],
         'city', ($7::text[])[1 + floor(r_city * cardinality($7::text[]))::int],
         'postalCode', lpad(((g::bigint * 7919) % 100000)::text, 5, '0'),
         'country', 'US') END,
  NULL,
  CASE WHEN r_ins < 0.60 THEN jsonb_build_object(
         'payer', ($8::text[])[1 + floor(r_ins / 0.60 * cardinality($8::text[]))::int],
         'memberId', upper(substr(h, 20, 10))) END,
  CASE WHEN r_allergy < 0.15 THEN '[{"substance": "Penicillin", "severity": "moderate"}]'::jsonb
       ELSE '[]'::jsonb END,
  '[]'::jsonb,
  CASE WHEN r_status < 0.95 THEN 'active' WHEN r_status < 0.98 THEN 'inactive' ELSE 'deceased' END,
  1, created, created
FROM people`;

/**
 * Luhn over 8 digits (rightmost first, every other digit doubled), as a session-local function:
 * the set-based insert needs it in SQL. Every run checks it against the service's own `formatMrn`
 * (workload.ts looks up seeded patients by `mrnOf`, and fails if one is missing).
 */
const LUHN_FN = `
CREATE OR REPLACE FUNCTION pg_temp.luhn(d text) RETURNS int LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT (10 - ((
      (2 * substr(d, 8, 1)::int - CASE WHEN substr(d, 8, 1)::int > 4 THEN 9 ELSE 0 END)
    + substr(d, 7, 1)::int
    + (2 * substr(d, 6, 1)::int - CASE WHEN substr(d, 6, 1)::int > 4 THEN 9 ELSE 0 END)
    + substr(d, 5, 1)::int
    + (2 * substr(d, 4, 1)::int - CASE WHEN substr(d, 4, 1)::int > 4 THEN 9 ELSE 0 END)
    + substr(d, 3, 1)::int
    + (2 * substr(d, 2, 1)::int - CASE WHEN substr(d, 2, 1)::int > 4 THEN 9 ELSE 0 END)
    + substr(d, 1, 1)::int) % 10)) % 10
$$`;

const STREETS = [
  'Main St',
  'Oak Ave',
  'Maple Dr',
  'Cedar Ln',
  'Pine St',
  'Elm St',
  'Washington Blvd',
  'Lake Rd',
  'Hill St',
  'Park Ave',
  'River Rd',
  'Church St',
  'Highland Ave',
  'Sunset Blvd',
  'Mill Rd',
  'Spring St',
];
const CITIES = [
  'Springfield',
  'Riverside',
  'Fairview',
  'Franklin',
  'Greenville',
  'Bristol',
  'Clinton',
  'Georgetown',
  'Salem',
  'Madison',
  'Arlington',
  'Ashland',
  'Burlington',
  'Manchester',
  'Milton',
  'Oxford',
];
const PAYERS = ['Aetna', 'Cigna', 'UnitedHealthcare', 'Humana', 'Kaiser Permanente', 'Medicare', 'Medicaid'];

/**
 * Inserts the seeded patients 1..n in one statement, on a client whose search_path starts with a
 * schema migrated like the Patient service's.
 */
export async function insertPatients(c: pg.ClientBase, n: number): Promise<void> {
  await c.query(LUHN_FN);
  await c.query('SELECT setseed(0.42)');
  await c.query(INSERT_SQL, [n, FEMALE_GIVEN, MALE_GIVEN, FAMILY, MRN_BASE, STREETS, CITIES, PAYERS]);
}

async function timed<T>(steps: SeedReport['steps'], step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  steps.push({ step, seconds });
  process.stdout.write(`  ${step.padEnd(44)} ${seconds.toFixed(1).padStart(6)} s\n`);
  return value;
}

async function sizes(url: string): Promise<{ tableBytes: number; indexBytes: number }> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ t: string; i: string }>(
      `SELECT pg_table_size('patient.patients') AS t, pg_indexes_size('patient.patients') AS i`,
    );
    return { tableBytes: Number(rows[0]?.t), indexBytes: Number(rows[0]?.i) };
  });
}

/**
 * Makes `name` hold exactly `patients` seeded patients: reuses a complete earlier seeding of the
 * same size, data and migrations, and otherwise drops the database and seeds it again.
 */
export async function ensureSeeded(
  serverUrl: string,
  name: string,
  patients: number,
  opts: { force?: boolean } = {},
): Promise<SeedReport> {
  const url = databaseUrl(serverUrl, name);
  if (!opts.force && (await seededAlready(serverUrl, name, patients))) {
    process.stdout.write(`database ${name} already holds the ${patients} seeded patients: reused\n`);
    return { reused: true, patients, seconds: 0, steps: [], ...(await sizes(url)) };
  }
  process.stdout.write(`seeding ${name} with ${patients} patients\n`);
  const steps: SeedReport['steps'] = [];
  const t0 = performance.now();
  await timed(steps, 'create database', () =>
    withClient(serverUrl, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name}`);
    }),
  );
  await timed(steps, 'migrations (prepareDatabase)', async () => {
    const db = new PostgresDb({ url, schema: 'patient', poolMax: 2 });
    try {
      await prepareDatabase(patientService, db);
    } finally {
      await db.close();
    }
  });
  await withClient(url, async (c) => {
    await c.query('SET search_path = patient, public');
    // session settings of this loading connection only; the server's configuration is untouched
    await c.query(`SET maintenance_work_mem = '1GB'`);
    // Secondary indexes are dropped for the load and rebuilt from their own definitions (as read
    // from the catalog, so they are exactly the migrations' ones): one sorted build per index
    // instead of a million random insertions into each.
    const { rows: indexes } = await c.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i
        WHERE i.indrelid = 'patient.patients'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1`,
    );
    await timed(steps, `drop ${indexes.length} secondary indexes`, async () => {
      for (const ix of indexes) await c.query(`DROP INDEX ${ix.name}`);
    });
    await timed(steps, `insert ${patients} patients`, () => insertPatients(c, patients));
    for (const ix of indexes) await timed(steps, `create index ${ix.name}`, () => c.query(ix.def));
    await c.query(`SELECT setval('patient_mrn_seq', $1::bigint)`, [MRN_BASE + patients]);
    // VACUUM sets hint bits and the visibility map now rather than during the measurement
    await timed(steps, 'vacuum analyze', () => c.query('VACUUM (ANALYZE)'));
    await timed(steps, 'checkpoint', () => c.query('CHECKPOINT'));
  });
  await withClient(serverUrl, (c) => c.query(`COMMENT ON DATABASE ${name} IS '${fingerprint(patients)}'`));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`  ${'seeding total'.padEnd(44)} ${seconds.toFixed(1).padStart(6)} s\n`);
  return { reused: false, patients, seconds, steps, ...(await sizes(url)) };
}
