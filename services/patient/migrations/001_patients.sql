-- Patient demographics (DOMAIN.md "Patient"). Names are searched case- and accent-insensitively
-- through folded copies (lower + unaccent) kept by the database itself, indexed for prefix
-- (btree text_pattern_ops) and fuzzy (trigram GIN) matching.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

-- unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes the
-- fold IMMUTABLE so it can feed generated columns and indexes.
CREATE FUNCTION name_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

CREATE SEQUENCE patient_mrn_seq START WITH 1000001;

CREATE TABLE patients (
  id                uuid PRIMARY KEY,
  mrn               text NOT NULL UNIQUE,
  given_name        text NOT NULL,
  family_name       text NOT NULL,
  birth_date        date NOT NULL,
  sex               text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
  phone             text,
  email             text,
  address           jsonb,
  emergency_contact jsonb,
  insurance         jsonb,
  allergies         jsonb NOT NULL DEFAULT '[]',
  conditions        jsonb NOT NULL DEFAULT '[]',
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'deceased')),
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  given_fold        text GENERATED ALWAYS AS (name_fold(given_name)) STORED,
  family_fold       text GENERATED ALWAYS AS (name_fold(family_name)) STORED,
  phone_digits      text GENERATED ALWAYS AS (regexp_replace(phone, '[^0-9]', '', 'g')) STORED,
  email_lower       text GENERATED ALWAYS AS (lower(email)) STORED
);

CREATE INDEX patients_family_prefix ON patients (family_fold text_pattern_ops);
CREATE INDEX patients_given_prefix ON patients (given_fold text_pattern_ops);
CREATE INDEX patients_family_trgm ON patients USING gin (family_fold gin_trgm_ops);
CREATE INDEX patients_given_trgm ON patients USING gin (given_fold gin_trgm_ops);
CREATE INDEX patients_birth_date ON patients (birth_date);
CREATE INDEX patients_phone ON patients (phone_digits) WHERE phone_digits IS NOT NULL;
CREATE INDEX patients_email ON patients (email_lower) WHERE email_lower IS NOT NULL;
CREATE INDEX patients_status_id ON patients (status, id);
-- the duplicate guard: same folded name and birth date among active patients
CREATE INDEX patients_identity ON patients (family_fold, given_fold, birth_date) WHERE status = 'active';
