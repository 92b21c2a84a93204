-- PROPOSED services/patient/migrations/002_patient_search.sql (issue #2; see docs/benchmarks.md).
-- Not applied by anything in bench/: a new migration, because migrate() refuses a landed one
-- whose text changed (001_patients.sql is landed).
--
-- Name search first matches the words against the distinct folded names (a few thousand to a few
-- hundred thousand rows, not a million patients), then finds the patients holding those names by
-- equality in two covering indexes (index-only scans: no table page is read for a candidate), and
-- reads only the page's rows from the table.

-- Every folded given and family name that occurs, kept by the database itself. Names are never
-- removed: a name nobody holds any more only matches no patient.
CREATE TABLE patient_names (fold text PRIMARY KEY);
CREATE INDEX patient_names_prefix ON patient_names (fold text_pattern_ops);
CREATE INDEX patient_names_trgm ON patient_names USING gin (fold gin_trgm_ops);

-- AFTER, so that the generated folds are computed
CREATE FUNCTION patient_names_keep() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  INSERT INTO patient_names (fold) VALUES (NEW.family_fold), (NEW.given_fold) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER patients_names AFTER INSERT OR UPDATE OF given_name, family_name ON patients
  FOR EACH ROW EXECUTE FUNCTION patient_names_keep();

INSERT INTO patient_names (fold)
  SELECT family_fold FROM patients UNION SELECT given_fold FROM patients
  ON CONFLICT DO NOTHING;

-- Equality on one name, rows in search order (name, other name, id), status for the filter:
-- everything the search needs before the page is known, without reading the table.
CREATE INDEX patients_family_key ON patients (family_fold, given_fold, id) INCLUDE (status);
CREATE INDEX patients_given_key ON patients (given_fold, family_fold, id) INCLUDE (status);

-- Only the name search used these; with the query above nothing does, and each costs every write
-- (the trigram GIN ones most).
DROP INDEX patients_family_prefix;
DROP INDEX patients_given_prefix;
DROP INDEX patients_family_trgm;
DROP INDEX patients_given_trgm;
