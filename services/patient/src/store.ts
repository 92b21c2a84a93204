import type { Patient, PatientInput } from '@hms/contracts';
import { rowMapper, sqlParams, type Queryable } from '@hms/platform';

/** The only module of the Patient service that speaks SQL (STYLE.md §5). */

interface PatientRow {
  id: string;
  mrn: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  sex: Patient['sex'];
  phone: string | null;
  email: string | null;
  address: Patient['address'] | null;
  emergency_contact: Patient['emergencyContact'] | null;
  insurance: Patient['insurance'] | null;
  allergies: Patient['allergies'];
  conditions: Patient['conditions'];
  status: Patient['status'];
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at`;

const toPatient = rowMapper<Patient>(COLUMNS);

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** given_name … conditions, in column order, as parameters (jsonb values as JSON text). */
function writableParams(input: PatientInput): unknown[] {
  return [
    input.givenName,
    input.familyName,
    input.birthDate,
    input.sex,
    input.phone ?? null,
    input.email ?? null,
    json(input.address),
    json(input.emergencyContact),
    json(input.insurance),
    JSON.stringify(input.allergies ?? []),
    JSON.stringify(input.conditions ?? []),
  ];
}

/** Serializes registrations of one folded name and birth date (the duplicate guard's race). */
export async function lockIdentity(tx: Queryable, input: PatientInput): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtext(name_fold($1) || '|' || name_fold($2) || '|' || $3))`,
    [input.familyName, input.givenName, input.birthDate],
  );
}

export async function findActiveDuplicate(tx: Queryable, input: PatientInput): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM patients
      WHERE family_fold = name_fold($1) AND given_fold = name_fold($2) AND birth_date = $3 AND status = 'active'
      ORDER BY id LIMIT 1`,
    [input.familyName, input.givenName, input.birthDate],
  );
  return rows[0]?.id;
}

export async function nextMrnSequence(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(`SELECT nextval('patient_mrn_seq') AS n`);
  return Number(rows[0]?.n);
}

export async function insertPatient(
  tx: Queryable,
  id: string,
  mrn: string,
  input: PatientInput,
): Promise<Patient> {
  const { rows } = await tx.query<PatientRow>(
    `INSERT INTO patients (id, mrn, given_name, family_name, birth_date, sex, phone, email, address,
        emergency_contact, insurance, allergies, conditions, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     RETURNING ${COLUMNS}`,
    [id, mrn, ...writableParams(input), input.status ?? 'active'],
  );
  return toPatient(rows[0] as PatientRow);
}

export async function getPatient(db: Queryable, id: string, forUpdate = false): Promise<Patient | undefined> {
  const { rows } = await db.query<PatientRow>(
    `SELECT ${COLUMNS} FROM patients WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
    { prepare: true },
  );
  return rows[0] ? toPatient(rows[0]) : undefined;
}

/** Replaces the writable fields and bumps the version. */
export async function updatePatient(
  tx: Queryable,
  id: string,
  input: PatientInput,
  status: Patient['status'],
): Promise<Patient> {
  const { rows } = await tx.query<PatientRow>(
    `UPDATE patients SET given_name = $2, family_name = $3, birth_date = $4, sex = $5, phone = $6, email = $7,
        address = $8, emergency_contact = $9, insurance = $10, allergies = $11, conditions = $12, status = $13,
        version = version + 1, updated_at = now()
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, ...writableParams(input), status],
  );
  return toPatient(rows[0] as PatientRow);
}

export type StatusFilter = Patient['status'] | 'all';

function statusClause(status: StatusFilter, bind: (v: unknown) => string): string {
  return status === 'all' ? 'TRUE' : `status = ${bind(status)}`;
}

/** Lists in id order (UUIDv7: registration order), keyset-paged. */
export async function listPatients(
  db: Queryable,
  opts: { status: StatusFilter; after?: string | undefined; limit: number },
): Promise<Patient[]> {
  const { params, bind } = sqlParams();
  const where = [statusClause(opts.status, bind)];
  if (opts.after) where.push(`id > ${bind(opts.after)}`);
  const { rows } = await db.query<PatientRow>(
    `SELECT ${COLUMNS} FROM patients WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(opts.limit + 1)}`,
    params,
  );
  return rows.map(toPatient);
}

export interface SearchCriteria {
  nameTokens: string[];
  birthDate?: string | undefined;
  mrn?: string | undefined;
  phoneDigits?: string | undefined;
  email?: string | undefined;
  status: StatusFilter;
}

export type SearchKey = [number, string, string, string];

interface SearchOptions {
  after?: SearchKey | undefined;
  limit: number;
}

/** The keyset cursor as a row value, to compare `(rank, family_fold, given_fold, id)` with. */
function keyAfter([rank, family, given, id]: SearchKey, bind: (v: unknown) => string): string {
  return `(${bind(rank)}::int, ${bind(family)}::text, ${bind(given)}::text, ${bind(id)}::uuid)`;
}

/**
 * Criteria search. Every name word must match the given or the family name, as a prefix of one of
 * its words ('vr' finds 'de Vries', 'jo' 'Smith-Jones') or fuzzily (trigram similarity of the
 * whole name); prefix matches rank first. Order: rank, family, given, id, so the keyset cursor is
 * `(rank, family_fold, given_fold, id)`.
 */
export async function searchPatients(
  db: Queryable,
  c: SearchCriteria,
  opts: SearchOptions,
): Promise<{ patient: Patient; key: SearchKey }[]> {
  const byNameOnly = c.nameTokens.length > 0 && !c.birthDate && !c.mrn && !c.phoneDigits && !c.email;
  const { sql, params } = byNameOnly
    ? nameSearchSql(c.nameTokens, c.status, opts)
    : criteriaSearchSql(c, opts);
  // The name search's text depends only on the word count, the status filter and the cursor's
  // presence, and its planning is a third of its time: prepared (its values are all parameters,
  // and its plan is equality probes either way). The criteria search stays a plain query, as a
  // plan for one LIKE pattern is not one for another.
  const { rows } = await db.query<PatientRow & { rank: number; family_fold: string; given_fold: string }>(
    sql,
    params,
    { prepare: byNameOnly },
  );
  return rows.map((r) => ({ patient: toPatient(r), key: [r.rank, r.family_fold, r.given_fold, r.id] }));
}

/**
 * A search with a birth date, MRN, phone or email: those criteria are selective and drive the
 * query through their own indexes; the name words, if any, only filter and rank what they find.
 */
function criteriaSearchSql(c: SearchCriteria, opts: SearchOptions): { sql: string; params: unknown[] } {
  const { params, bind } = sqlParams();
  const where: string[] = [statusClause(c.status, bind)];
  const rankTerms: string[] = [];
  for (const token of c.nameTokens) {
    const t = `name_fold(${bind(token)})`;
    // as patient_names' tails: the start of the name, or of a word after a space or a hyphen
    const wordPrefix = (col: string) =>
      `${col} LIKE ${t} || '%' OR ${col} LIKE '% ' || ${t} || '%' OR ${col} LIKE '%-' || ${t} || '%'`;
    const prefix = `(${wordPrefix('family_fold')} OR ${wordPrefix('given_fold')})`;
    where.push(`(${prefix} OR family_fold % ${t} OR given_fold % ${t})`);
    rankTerms.push(`CASE WHEN ${prefix} THEN 0 ELSE 1 END`);
  }
  if (c.birthDate) where.push(`birth_date = ${bind(c.birthDate)}`);
  if (c.mrn) where.push(`mrn = ${bind(c.mrn.toUpperCase())}`);
  if (c.phoneDigits) where.push(`phone_digits = ${bind(c.phoneDigits)}`);
  if (c.email) where.push(`email_lower = lower(${bind(c.email)})`);
  const rank = rankTerms.length > 0 ? rankTerms.join(' + ') : '0';
  const keyset = opts.after
    ? `WHERE (rank, family_fold, given_fold, id) > ${keyAfter(opts.after, bind)}`
    : '';
  return {
    sql: `SELECT * FROM (
        SELECT ${COLUMNS}, family_fold, given_fold, (${rank})::int AS rank
          FROM patients WHERE ${where.join(' AND ')}
      ) matches
      ${keyset}
      ORDER BY rank, family_fold, given_fold, id
      LIMIT ${bind(opts.limit + 1)}`,
    params,
  };
}

/**
 * A search by name words alone (and status): same matches, ranks, order and cursor as
 * `criteriaSearchSql`, found without touching the patients that do not make the page
 * (migrations/002_patient_search.sql).
 *
 * 1. `n<j>`: the distinct folded names (`patient_names`) that word j matches, and whether as a
 *    prefix (`patient_name_matches`); `n<j>_prefix` those it prefix-matches. A patient matches
 *    word j exactly when its family or given fold is in `n<j>`, and prefix-matches it when that
 *    name is in `n<j>_prefix`.
 * 2. The matching patients fall in disjoint streams, each of one rank, each read in search order
 *    from a covering index (index-only) and stopped after `limit` + 1 rows:
 *    - per name w matched by every word, patients with family name w (given name any when w is a
 *      prefix match of every word, else not a prefix name): `patients_family_key`, (given, id);
 *    - per such w as the given name, family name not such a name (and, unless w is a prefix match
 *      of every word, not a prefix name): `patients_given_key`, in (family, id) order;
 *    - per remaining (family, given) pair of matched names: `patients_family_key`, in id order.
 *    The page is among the first `limit` + 1 rows of the streams: at most that many keys per
 *    stream are ranked and sorted, however many patients share a common name.
 * 3. Only the page's rows are read from the table.
 */
function nameSearchSql(
  words: string[],
  status: StatusFilter,
  opts: SearchOptions,
): { sql: string; params: unknown[] } {
  const { params, bind } = sqlParams();
  const inSet = (col: string, set: string) => `${col} IN (SELECT fold FROM ${set})`;
  const notInSet = (col: string, set: string) => `${col} NOT IN (SELECT fold FROM ${set})`;
  const ctes = words.map(
    (token, j) => `n${j} AS MATERIALIZED (SELECT fold, prefix FROM patient_name_matches(${bind(token)}))`,
  );
  words.forEach((_, j) => ctes.push(`n${j}_prefix AS MATERIALIZED (SELECT fold FROM n${j} WHERE prefix)`));
  const each = words.map((_, j) => `SELECT fold FROM n${j}`);
  const eachPrefix = words.map((_, j) => `SELECT fold FROM n${j}_prefix`);
  // names matched by every word / by some word / as a prefix by some word / by every word
  ctes.push(`every_word AS MATERIALIZED (${each.join(' INTERSECT ')})`);
  ctes.push(`any_word AS MATERIALIZED (${each.join(' UNION ')})`);
  ctes.push(`prefix_word AS MATERIALIZED (${eachPrefix.join(' UNION ')})`);
  ctes.push(`all_prefix AS MATERIALIZED (${eachPrefix.join(' INTERSECT ')})`);
  // (family, given) pairs of matched names whose rows the two per-name streams leave out
  ctes.push(`pairs AS MATERIALIZED (
    SELECT f.fold AS family, g.fold AS given FROM any_word f CROSS JOIN any_word g
     WHERE ${words.map((_, j) => `(${inSet('f.fold', `n${j}`)} OR ${inSet('g.fold', `n${j}`)})`).join(' AND ')}
       AND NOT (${inSet('f.fold', 'every_word')}
                AND (${inSet('f.fold', 'all_prefix')} OR ${notInSet('g.fold', 'prefix_word')}))
       AND NOT (${inSet('g.fold', 'every_word')} AND ${notInSet('f.fold', 'every_word')}
                AND (${inSet('g.fold', 'all_prefix')} OR ${notInSet('f.fold', 'prefix_word')})))`);

  const rankOf = (a: string) =>
    words
      .map(
        (_, j) =>
          `CASE WHEN ${inSet(`${a}.family_fold`, `n${j}_prefix`)} OR ${inSet(`${a}.given_fold`, `n${j}_prefix`)} THEN 0 ELSE 1 END`,
      )
      .join(' + ');
  const filters: string[] = [];
  if (status !== 'all') filters.push(`p.status = ${bind(status)}`);
  if (opts.after)
    filters.push(
      `((${rankOf('p')})::int, p.family_fold, p.given_fold, p.id) > ${keyAfter(opts.after, bind)}`,
    );
  const limit = bind(opts.limit + 1);
  const stream = (from: string, where: string[], order: string) =>
    `SELECT s.* FROM ${from} CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE ${[...where, ...filters].join(' AND ')}
        ORDER BY ${order} LIMIT ${limit}) s`;
  ctes.push(`matches AS (
    ${stream(
      'every_word w',
      [
        'p.family_fold = w.fold',
        `(${inSet('w.fold', 'all_prefix')} OR ${notInSet('p.given_fold', 'prefix_word')})`,
      ],
      'p.given_fold, p.id',
    )}
    UNION ALL
    ${stream(
      'every_word w',
      [
        'p.given_fold = w.fold',
        notInSet('p.family_fold', 'every_word'),
        `(${inSet('w.fold', 'all_prefix')} OR ${notInSet('p.family_fold', 'prefix_word')})`,
      ],
      'p.family_fold, p.id',
    )}
    UNION ALL
    ${stream('pairs q', ['p.family_fold = q.family', 'p.given_fold = q.given'], 'p.id')})`);
  ctes.push(`page AS (
    SELECT m.id, m.family_fold, m.given_fold, (${rankOf('m')})::int AS rank FROM matches m
     ORDER BY rank, m.family_fold, m.given_fold, m.id
     LIMIT ${limit})`);
  return {
    sql: `WITH ${ctes.join(',\n')}
      SELECT ${COLUMNS}, page.family_fold, page.given_fold, page.rank
        FROM page JOIN patients USING (id)
       ORDER BY page.rank, page.family_fold, page.given_fold, page.id`,
    params,
  };
}
