/**
 * PROPOSED SQL for `searchPatients` in services/patient/src/store.ts (issue #2; see
 * docs/benchmarks.md), with migration 002_patient_search.sql. Same criteria, same matches, same
 * order and same keyset cursor as the current query; only the way PostgreSQL finds them changes.
 *
 * `nameSearchSql` answers searches by name words alone (optionally with a status filter), the
 * searches that were slow. A search that also gives a birth date, MRN, phone or email keeps the
 * current SQL: those criteria are selective and drive it through their own indexes.
 */

export interface NameSearch {
  nameTokens: string[];
  status: 'active' | 'inactive' | 'deceased' | 'all';
}

export type SearchKey = [number, string, string, string];

const COLUMNS = `id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at`;

/**
 * Every name word must match the given or the family name, as a prefix or fuzzily (trigram
 * similarity); prefix matches rank first. Order: rank, family, given, id; keyset on that key.
 *
 * 1. `n<j>`: the distinct folded names (`patient_names`, thousands of rows, not a million) that
 *    word j matches, and whether as a prefix. A patient matches word j exactly when its family or
 *    given fold is one of them, and matches it as a prefix exactly when that name is a prefix one.
 * 2. The matching patients fall in disjoint streams, each of one rank, each read in search order
 *    from a covering index (index-only) and stopped after `limit` rows:
 *    - per name w matched by every word, patients with family name w (given name any when w is a
 *      prefix match of every word, else not a prefix name): `patients_family_key`, (given, id);
 *    - per such w as the given name, family name not such a name (and, unless w is a prefix match
 *      of every word, not a prefix name): `patients_given_key`, in (family, id) order;
 *    - per remaining (family, given) pair of matched names: `patients_family_key`, in id order.
 *    The page is among the first `limit` rows of the streams: at most `limit` x streams keys are
 *    ranked and sorted, however many patients share a common name.
 * 3. Only the page's rows are read from the table.
 */
export function nameSearchSql(
  c: NameSearch,
  opts: { after?: SearchKey | undefined; limit: number },
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const words = c.nameTokens;
  if (words.length === 0) throw new Error('nameSearchSql needs at least one name word');
  const ctes = words.map((token, j) => {
    const t = p(token);
    return `n${j} AS MATERIALIZED (
      SELECT fold, fold LIKE name_fold(${t}) || '%' AS prefix FROM patient_names
       WHERE fold LIKE name_fold(${t}) || '%' OR fold % name_fold(${t}))`;
  });
  const inSet = (col: string, set: string) => `${col} IN (SELECT fold FROM ${set})`;
  const notInSet = (col: string, set: string) => `${col} NOT IN (SELECT fold FROM ${set})`;
  const each = words.map((_, j) => `SELECT fold FROM n${j}`);
  words.forEach((_, j) => ctes.push(`n${j}_prefix AS MATERIALIZED (SELECT fold FROM n${j} WHERE prefix)`));
  const eachPrefix = words.map((_, j) => `SELECT fold FROM n${j}_prefix`);
  // names matched by every word / by some word / as a prefix of some word / of every word
  ctes.push(`every_word AS MATERIALIZED (${each.join(' INTERSECT ')})`);
  ctes.push(`any_word AS MATERIALIZED (${each.join(' UNION ')})`);
  ctes.push(`prefix_word AS MATERIALIZED (${eachPrefix.join(' UNION ')})`);
  ctes.push(`all_prefix AS MATERIALIZED (${eachPrefix.join(' INTERSECT ')})`);
  // (family, given) pairs of matched names whose rows the two per-name streams below leave out
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
  if (c.status !== 'all') filters.push(`p.status = ${p(c.status)}`);
  if (opts.after) {
    const [r, f, g, id] = opts.after;
    filters.push(
      `((${rankOf('p')})::int, p.family_fold, p.given_fold, p.id) > (${p(r)}::int, ${p(f)}::text, ${p(g)}::text, ${p(id)}::uuid)`,
    );
  }
  const limit = p(opts.limit + 1);
  const and = (conds: string[]) => [...conds, ...filters].join(' AND ');
  const stream = (from: string, where: string[], order: string) =>
    `SELECT s.* FROM ${from} CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE ${and(where)}
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
