-- Local copies of other services' data (DESIGN.md §5), kept from their events: one row per entry,
-- at the newest version seen, so events applied out of order never move an entry back. `kind`
-- names what is copied ('staff', 'patient-allergies', …); `data` holds only what the service needs.
CREATE TABLE local_copies (
  kind       text NOT NULL,
  id         text NOT NULL,
  version    integer NOT NULL,
  data       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, id)
);
