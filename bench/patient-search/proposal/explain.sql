-- Evidence for the proposal in docs/benchmarks.md ("Patient search (issue #2)").
-- Run on the seeded benchmark database (npm run bench:patient-search seeds it):
--   psql -h 127.0.0.1 -U postgres -d hms_bench_patient -f bench/patient-search/proposal/explain.sql
-- Before: the current query of services/patient/src/store.ts. After: migration 002 and the query
-- of search-sql.ts, inside a transaction that is rolled back, so the database stays as seeded.
-- (Generated from the two builders for three searches: 'Gonz', 'Mary Smith', 'Smoth'.) Do not run it while the
-- benchmark runs: the migration's DROP INDEX locks the table until the ROLLBACK.
\timing on
SET search_path = patient, public;

-- BEFORE
PREPARE before_0(text, text, int) AS
SELECT * FROM (
        SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, family_fold, given_fold, (CASE WHEN (family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') THEN 0 ELSE 1 END)::int AS rank
          FROM patients WHERE status = $1 AND ((family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') OR family_fold % name_fold($2) OR given_fold % name_fold($2))
      ) matches
      ORDER BY rank, family_fold, given_fold, id
      LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_0('active', 'Gonz', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_0('active', 'Gonz', 21);
PREPARE before_1(text, text, text, int) AS
SELECT * FROM (
        SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, family_fold, given_fold, (CASE WHEN (family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') THEN 0 ELSE 1 END + CASE WHEN (family_fold LIKE name_fold($3) || '%' OR given_fold LIKE name_fold($3) || '%') THEN 0 ELSE 1 END)::int AS rank
          FROM patients WHERE status = $1 AND ((family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') OR family_fold % name_fold($2) OR given_fold % name_fold($2)) AND ((family_fold LIKE name_fold($3) || '%' OR given_fold LIKE name_fold($3) || '%') OR family_fold % name_fold($3) OR given_fold % name_fold($3))
      ) matches
      ORDER BY rank, family_fold, given_fold, id
      LIMIT $4;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_1('active', 'Mary', 'Smith', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_1('active', 'Mary', 'Smith', 21);
PREPARE before_2(text, text, int) AS
SELECT * FROM (
        SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, family_fold, given_fold, (CASE WHEN (family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') THEN 0 ELSE 1 END)::int AS rank
          FROM patients WHERE status = $1 AND ((family_fold LIKE name_fold($2) || '%' OR given_fold LIKE name_fold($2) || '%') OR family_fold % name_fold($2) OR given_fold % name_fold($2))
      ) matches
      ORDER BY rank, family_fold, given_fold, id
      LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_2('active', 'Smoth', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE before_2('active', 'Smoth', 21);

-- AFTER
BEGIN;
\ir 002_patient_search.sql
ANALYZE patients;
ANALYZE patient_names;
PREPARE after_0(text, text, int) AS
WITH n0 AS MATERIALIZED (
      SELECT fold, fold LIKE name_fold($1) || '%' AS prefix FROM patient_names
       WHERE fold LIKE name_fold($1) || '%' OR fold % name_fold($1)),
n0_prefix AS MATERIALIZED (SELECT fold FROM n0 WHERE prefix),
every_word AS MATERIALIZED (SELECT fold FROM n0),
any_word AS MATERIALIZED (SELECT fold FROM n0),
prefix_word AS MATERIALIZED (SELECT fold FROM n0_prefix),
all_prefix AS MATERIALIZED (SELECT fold FROM n0_prefix),
pairs AS MATERIALIZED (
    SELECT f.fold AS family, g.fold AS given FROM any_word f CROSS JOIN any_word g
     WHERE (f.fold IN (SELECT fold FROM n0) OR g.fold IN (SELECT fold FROM n0))
       AND NOT (f.fold IN (SELECT fold FROM every_word)
                AND (f.fold IN (SELECT fold FROM all_prefix) OR g.fold NOT IN (SELECT fold FROM prefix_word)))
       AND NOT (g.fold IN (SELECT fold FROM every_word) AND f.fold NOT IN (SELECT fold FROM every_word)
                AND (g.fold IN (SELECT fold FROM all_prefix) OR f.fold NOT IN (SELECT fold FROM prefix_word)))),
matches AS (
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = w.fold AND (w.fold IN (SELECT fold FROM all_prefix) OR p.given_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $2
        ORDER BY p.given_fold, p.id LIMIT $3) s
    UNION ALL
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.given_fold = w.fold AND p.family_fold NOT IN (SELECT fold FROM every_word) AND (w.fold IN (SELECT fold FROM all_prefix) OR p.family_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $2
        ORDER BY p.family_fold, p.id LIMIT $3) s
    UNION ALL
    SELECT s.* FROM pairs q CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = q.family AND p.given_fold = q.given AND p.status = $2
        ORDER BY p.id LIMIT $3) s),
page AS (
    SELECT m.id, m.family_fold, m.given_fold, (CASE WHEN m.family_fold IN (SELECT fold FROM n0_prefix) OR m.given_fold IN (SELECT fold FROM n0_prefix) THEN 0 ELSE 1 END)::int AS rank FROM matches m
     ORDER BY rank, m.family_fold, m.given_fold, m.id
     LIMIT $3)
      SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, page.family_fold, page.given_fold, page.rank
        FROM page JOIN patients USING (id)
       ORDER BY page.rank, page.family_fold, page.given_fold, page.id;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_0('Gonz', 'active', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_0('Gonz', 'active', 21);
PREPARE after_1(text, text, text, int) AS
WITH n0 AS MATERIALIZED (
      SELECT fold, fold LIKE name_fold($1) || '%' AS prefix FROM patient_names
       WHERE fold LIKE name_fold($1) || '%' OR fold % name_fold($1)),
n1 AS MATERIALIZED (
      SELECT fold, fold LIKE name_fold($2) || '%' AS prefix FROM patient_names
       WHERE fold LIKE name_fold($2) || '%' OR fold % name_fold($2)),
n0_prefix AS MATERIALIZED (SELECT fold FROM n0 WHERE prefix),
n1_prefix AS MATERIALIZED (SELECT fold FROM n1 WHERE prefix),
every_word AS MATERIALIZED (SELECT fold FROM n0 INTERSECT SELECT fold FROM n1),
any_word AS MATERIALIZED (SELECT fold FROM n0 UNION SELECT fold FROM n1),
prefix_word AS MATERIALIZED (SELECT fold FROM n0_prefix UNION SELECT fold FROM n1_prefix),
all_prefix AS MATERIALIZED (SELECT fold FROM n0_prefix INTERSECT SELECT fold FROM n1_prefix),
pairs AS MATERIALIZED (
    SELECT f.fold AS family, g.fold AS given FROM any_word f CROSS JOIN any_word g
     WHERE (f.fold IN (SELECT fold FROM n0) OR g.fold IN (SELECT fold FROM n0)) AND (f.fold IN (SELECT fold FROM n1) OR g.fold IN (SELECT fold FROM n1))
       AND NOT (f.fold IN (SELECT fold FROM every_word)
                AND (f.fold IN (SELECT fold FROM all_prefix) OR g.fold NOT IN (SELECT fold FROM prefix_word)))
       AND NOT (g.fold IN (SELECT fold FROM every_word) AND f.fold NOT IN (SELECT fold FROM every_word)
                AND (g.fold IN (SELECT fold FROM all_prefix) OR f.fold NOT IN (SELECT fold FROM prefix_word)))),
matches AS (
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = w.fold AND (w.fold IN (SELECT fold FROM all_prefix) OR p.given_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $3
        ORDER BY p.given_fold, p.id LIMIT $4) s
    UNION ALL
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.given_fold = w.fold AND p.family_fold NOT IN (SELECT fold FROM every_word) AND (w.fold IN (SELECT fold FROM all_prefix) OR p.family_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $3
        ORDER BY p.family_fold, p.id LIMIT $4) s
    UNION ALL
    SELECT s.* FROM pairs q CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = q.family AND p.given_fold = q.given AND p.status = $3
        ORDER BY p.id LIMIT $4) s),
page AS (
    SELECT m.id, m.family_fold, m.given_fold, (CASE WHEN m.family_fold IN (SELECT fold FROM n0_prefix) OR m.given_fold IN (SELECT fold FROM n0_prefix) THEN 0 ELSE 1 END + CASE WHEN m.family_fold IN (SELECT fold FROM n1_prefix) OR m.given_fold IN (SELECT fold FROM n1_prefix) THEN 0 ELSE 1 END)::int AS rank FROM matches m
     ORDER BY rank, m.family_fold, m.given_fold, m.id
     LIMIT $4)
      SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, page.family_fold, page.given_fold, page.rank
        FROM page JOIN patients USING (id)
       ORDER BY page.rank, page.family_fold, page.given_fold, page.id;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_1('Mary', 'Smith', 'active', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_1('Mary', 'Smith', 'active', 21);
PREPARE after_2(text, text, int) AS
WITH n0 AS MATERIALIZED (
      SELECT fold, fold LIKE name_fold($1) || '%' AS prefix FROM patient_names
       WHERE fold LIKE name_fold($1) || '%' OR fold % name_fold($1)),
n0_prefix AS MATERIALIZED (SELECT fold FROM n0 WHERE prefix),
every_word AS MATERIALIZED (SELECT fold FROM n0),
any_word AS MATERIALIZED (SELECT fold FROM n0),
prefix_word AS MATERIALIZED (SELECT fold FROM n0_prefix),
all_prefix AS MATERIALIZED (SELECT fold FROM n0_prefix),
pairs AS MATERIALIZED (
    SELECT f.fold AS family, g.fold AS given FROM any_word f CROSS JOIN any_word g
     WHERE (f.fold IN (SELECT fold FROM n0) OR g.fold IN (SELECT fold FROM n0))
       AND NOT (f.fold IN (SELECT fold FROM every_word)
                AND (f.fold IN (SELECT fold FROM all_prefix) OR g.fold NOT IN (SELECT fold FROM prefix_word)))
       AND NOT (g.fold IN (SELECT fold FROM every_word) AND f.fold NOT IN (SELECT fold FROM every_word)
                AND (g.fold IN (SELECT fold FROM all_prefix) OR f.fold NOT IN (SELECT fold FROM prefix_word)))),
matches AS (
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = w.fold AND (w.fold IN (SELECT fold FROM all_prefix) OR p.given_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $2
        ORDER BY p.given_fold, p.id LIMIT $3) s
    UNION ALL
    SELECT s.* FROM every_word w CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.given_fold = w.fold AND p.family_fold NOT IN (SELECT fold FROM every_word) AND (w.fold IN (SELECT fold FROM all_prefix) OR p.family_fold NOT IN (SELECT fold FROM prefix_word)) AND p.status = $2
        ORDER BY p.family_fold, p.id LIMIT $3) s
    UNION ALL
    SELECT s.* FROM pairs q CROSS JOIN LATERAL (
       SELECT p.id, p.family_fold, p.given_fold FROM patients p
        WHERE p.family_fold = q.family AND p.given_fold = q.given AND p.status = $2
        ORDER BY p.id LIMIT $3) s),
page AS (
    SELECT m.id, m.family_fold, m.given_fold, (CASE WHEN m.family_fold IN (SELECT fold FROM n0_prefix) OR m.given_fold IN (SELECT fold FROM n0_prefix) THEN 0 ELSE 1 END)::int AS rank FROM matches m
     ORDER BY rank, m.family_fold, m.given_fold, m.id
     LIMIT $3)
      SELECT id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at, page.family_fold, page.given_fold, page.rank
        FROM page JOIN patients USING (id)
       ORDER BY page.rank, page.family_fold, page.given_fold, page.id;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_2('Smoth', 'active', 21);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE after_2('Smoth', 'active', 21);
ROLLBACK;
