-- Name search at a million patients (issue #2; docs/benchmarks.md "Patient search").
--
-- Search words are first matched against the distinct folded names (hundreds to a few hundred
-- thousand rows, not a million patients); the patients holding those names are then found by
-- equality in two covering indexes (index-only scans: no table page is read for a candidate),
-- and only the page's rows are read from the table (store.ts `nameSearchSql`).

-- Every folded given and family name that occurs, once per word start: `tail` is the fold from
-- the start of one of its words (the first, or one after a space or a hyphen) to its end, so a
-- word prefix-matches a name when it is a prefix of one of its tails ('vr' of 'de vries',
-- 'jo' of 'smith-jones'). Kept by the database itself; names are never removed: a name nobody
-- holds any more only matches no patient.
CREATE TABLE patient_names (
  tail text NOT NULL,
  fold text NOT NULL
);
-- unique (the trigger's ON CONFLICT) and, with text_pattern_ops, the prefix index (LIKE 'w%')
CREATE UNIQUE INDEX patient_names_tail ON patient_names (tail text_pattern_ops, fold);
CREATE INDEX patient_names_trgm ON patient_names USING gin (fold gin_trgm_ops);

CREATE FUNCTION patient_name_tails(fold text) RETURNS TABLE (tail text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$
    SELECT substr(fold, i) FROM generate_series(1, length(fold)) AS i
     WHERE i = 1 OR substr(fold, i - 1, 1) IN (' ', '-')
  $$;

-- The names a search word matches, and whether as a prefix of one of their tails (else only
-- fuzzily: trigram similarity of the whole name). The settings pin the index plans: with few
-- distinct names the planner would rather compute the similarity of every name (about 1.5 µs
-- each, a cost its model does not see) than probe the trigram index (about 0.1 ms in all), and a
-- plan made for the word at hand is what lets the LIKE prefix use the btree.
CREATE FUNCTION patient_name_matches(word text) RETURNS TABLE (fold text, prefix boolean)
  LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10
  SET search_path FROM CURRENT
  SET enable_seqscan = off
  SET plan_cache_mode = force_custom_plan
  AS $$
DECLARE
  w text := name_fold(word);
BEGIN
  RETURN QUERY
    SELECT n.fold, bool_or(n.tail LIKE w || '%') FROM patient_names n
     WHERE n.tail LIKE w || '%' OR n.fold % w
     GROUP BY n.fold;
END
$$;

-- The functions keep the migration's search path (the service's schema), so a session with
-- another one (an operator's psql, a bulk load) writing patients still finds patient_names.
--
-- AFTER, so that the generated folds are computed. A name's whole fold is its first tail, written
-- in the same statement as the others: when both names' rows are there (nearly always), so are
-- their other tails, and two index probes are all a write costs.
CREATE FUNCTION patient_names_keep() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path FROM CURRENT
  AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM patient_names WHERE tail = NEW.family_fold AND fold = NEW.family_fold)
     OR NOT EXISTS (SELECT FROM patient_names WHERE tail = NEW.given_fold AND fold = NEW.given_fold) THEN
    INSERT INTO patient_names (tail, fold)
      SELECT t.tail, f.fold FROM unnest(ARRAY[NEW.family_fold, NEW.given_fold]) AS f (fold),
             patient_name_tails(f.fold) AS t
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER patients_names_insert AFTER INSERT ON patients
  FOR EACH ROW EXECUTE FUNCTION patient_names_keep();
-- an update that leaves both names as they were (most do: status, phone, ...) costs nothing
CREATE TRIGGER patients_names_update AFTER UPDATE OF given_name, family_name ON patients
  FOR EACH ROW
  WHEN (NEW.family_fold IS DISTINCT FROM OLD.family_fold OR NEW.given_fold IS DISTINCT FROM OLD.given_fold)
  EXECUTE FUNCTION patient_names_keep();

INSERT INTO patient_names (tail, fold)
  SELECT t.tail, n.fold
    FROM (SELECT family_fold FROM patients UNION SELECT given_fold FROM patients) AS n (fold),
         patient_name_tails(n.fold) AS t
  ON CONFLICT DO NOTHING;

-- Equality on one name, rows in search order (name, other name, id), status for the filter:
-- everything the search needs before the page is known, without reading the table.
CREATE INDEX patients_family_key ON patients (family_fold, given_fold, id) INCLUDE (status);
CREATE INDEX patients_given_key ON patients (given_fold, family_fold, id) INCLUDE (status);

-- Only the name search used these; it no longer does, and each cost every write (the trigram
-- GIN ones most).
DROP INDEX patients_family_prefix;
DROP INDEX patients_given_prefix;
DROP INDEX patients_family_trgm;
DROP INDEX patients_given_trgm;
