import type { Patient, PatientInput } from '@hms/contracts';
import type { Queryable } from '@hms/platform';

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

function toPatient(r: PatientRow): Patient {
  const p: Patient = {
    id: r.id,
    mrn: r.mrn,
    givenName: r.given_name,
    familyName: r.family_name,
    birthDate: r.birth_date,
    sex: r.sex,
    allergies: r.allergies,
    conditions: r.conditions,
    status: r.status,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
  if (r.phone !== null) p.phone = r.phone;
  if (r.email !== null) p.email = r.email;
  if (r.address !== null) p.address = r.address;
  if (r.emergency_contact !== null) p.emergencyContact = r.emergency_contact;
  if (r.insurance !== null) p.insurance = r.insurance;
  return p;
}

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

function statusClause(status: StatusFilter, params: unknown[]): string {
  if (status === 'all') return 'TRUE';
  params.push(status);
  return `status = $${params.length}`;
}

/** Lists in id order (UUIDv7: registration order), keyset-paged. */
export async function listPatients(
  db: Queryable,
  opts: { status: StatusFilter; after?: string | undefined; limit: number },
): Promise<Patient[]> {
  const params: unknown[] = [];
  const where = [statusClause(opts.status, params)];
  if (opts.after) {
    params.push(opts.after);
    where.push(`id > $${params.length}`);
  }
  params.push(opts.limit + 1);
  const { rows } = await db.query<PatientRow>(
    `SELECT ${COLUMNS} FROM patients WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`,
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

/**
 * Criteria search. Every name word must match the given or the family name, as a prefix or
 * fuzzily (trigram similarity); prefix matches rank first. Order: rank, family, given, id, so the
 * keyset cursor is `(rank, family_fold, given_fold, id)`.
 */
export async function searchPatients(
  db: Queryable,
  c: SearchCriteria,
  opts: { after?: SearchKey | undefined; limit: number },
): Promise<{ patient: Patient; key: SearchKey }[]> {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [statusClause(c.status, params)];
  const rankTerms: string[] = [];
  for (const token of c.nameTokens) {
    const t = p(token);
    const prefix = `(family_fold LIKE name_fold(${t}) || '%' OR given_fold LIKE name_fold(${t}) || '%')`;
    where.push(`(${prefix} OR family_fold % name_fold(${t}) OR given_fold % name_fold(${t}))`);
    rankTerms.push(`CASE WHEN ${prefix} THEN 0 ELSE 1 END`);
  }
  if (c.birthDate) where.push(`birth_date = ${p(c.birthDate)}`);
  if (c.mrn) where.push(`mrn = ${p(c.mrn.toUpperCase())}`);
  if (c.phoneDigits) where.push(`phone_digits = ${p(c.phoneDigits)}`);
  if (c.email) where.push(`email_lower = lower(${p(c.email)})`);
  const rank = rankTerms.length > 0 ? rankTerms.join(' + ') : '0';
  let keyset = '';
  if (opts.after) {
    const [r, f, g, id] = opts.after;
    keyset = `WHERE (rank, family_fold, given_fold, id) > (${p(r)}::int, ${p(f)}::text, ${p(g)}::text, ${p(id)}::uuid)`;
  }
  const limit = p(opts.limit + 1);
  const { rows } = await db.query<PatientRow & { rank: number; family_fold: string; given_fold: string }>(
    `SELECT * FROM (
        SELECT ${COLUMNS}, family_fold, given_fold, (${rank})::int AS rank
          FROM patients WHERE ${where.join(' AND ')}
      ) matches
      ${keyset}
      ORDER BY rank, family_fold, given_fold, id
      LIMIT ${limit}`,
    params,
  );
  return rows.map((r) => ({ patient: toPatient(r), key: [r.rank, r.family_fold, r.given_fold, r.id] }));
}
