-- The audit trail (issue #14): append-only, one row per recorded event or access record, each
-- with a gap-free seq and the hash of the row before it (see src/domain/chain.ts for the form).
-- Columns hold what the chain hashes; nothing here is a value of a patient's record.
CREATE TABLE audit_records (
  seq            bigint PRIMARY KEY CHECK (seq >= 1),
  id             uuid NOT NULL UNIQUE,
  recorded_at    timestamptz NOT NULL,
  category       text NOT NULL CHECK (category IN ('event', 'access')),
  type           text NOT NULL,
  event_id       uuid NOT NULL,
  item           integer NOT NULL CHECK (item >= 0),
  source         text NOT NULL,
  subject        text NOT NULL,
  at             timestamptz NOT NULL,
  actor_kind     text CHECK (actor_kind IN ('user', 'service', 'anonymous')),
  actor_id       text,
  action         text,
  outcome        text CHECK (outcome IN ('granted', 'refused', 'failed')),
  status         integer,
  service        text,
  method         text,
  route          text,
  request_id     text,
  client_ip      text,
  resource_type  text NOT NULL,
  resource_ids   text[] NOT NULL,
  patient_ids    text[] NOT NULL,
  changed_fields text[] NOT NULL,
  data_digest    text,
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  -- an event (an access batch's record) is in the trail once, even if the inbox has forgotten it
  UNIQUE (event_id, item)
);

-- the filters of GET /audit/events, each with seq for newest-first keyset paging
CREATE INDEX audit_records_actor ON audit_records (actor_id, seq);
CREATE INDEX audit_records_type ON audit_records (type, seq);
CREATE INDEX audit_records_at ON audit_records (at);
CREATE INDEX audit_records_patients ON audit_records USING gin (patient_ids);
CREATE INDEX audit_records_resources ON audit_records USING gin (resource_ids);

-- Append-only in the database too: every UPDATE, DELETE and TRUNCATE is refused, whoever
-- connects (the owner and superusers included: triggers fire for every role). ENABLE ALWAYS
-- keeps them firing under session_replication_role = replica as well; only an owner who
-- disables them (ALTER TABLE … DISABLE TRIGGER) gets past, and the chain shows what they did.
CREATE FUNCTION audit_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER audit_records_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_records_refuse_change();
CREATE TRIGGER audit_records_no_truncate
  BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse_change();
ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_no_update_delete;
ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_no_truncate;
