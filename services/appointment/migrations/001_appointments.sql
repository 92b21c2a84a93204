-- The Appointment service's tables (DOMAIN.md "Appointment"). No double booking is the
-- database's rule: two exclusion constraints over time ranges, so concurrent requests cannot both
-- win whatever the service's own checks saw.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- appointment types are data: a stable code (what billing prices), a default duration, buffers
CREATE TABLE appointment_types (
  code              text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  name              text NOT NULL,
  duration_min      integer NOT NULL CHECK (duration_min BETWEEN 5 AND 720),
  buffer_before_min integer NOT NULL DEFAULT 0 CHECK (buffer_before_min BETWEEN 0 AND 120),
  buffer_after_min  integer NOT NULL DEFAULT 0 CHECK (buffer_after_min BETWEEN 0 AND 120),
  active            boolean NOT NULL DEFAULT true,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);

CREATE TABLE appointments (
  id                  uuid PRIMARY KEY,
  patient_id          uuid NOT NULL,
  staff_id            uuid NOT NULL,
  type                text NOT NULL REFERENCES appointment_types (code),
  starts_at           timestamptz NOT NULL,
  ends_at             timestamptz NOT NULL,
  -- the type's buffers when booked, and the staff member's busy span they make: [busy_from, busy_to)
  buffer_before_min   integer NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
  buffer_after_min    integer NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
  busy_from           timestamptz NOT NULL,
  busy_to             timestamptz NOT NULL,
  reason              text,
  location            text,
  series_id           uuid,
  status              text NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'checked-in', 'completed', 'cancelled', 'no-show')),
  cancellation_reason text,
  history             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(history) = 'array'),
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  CHECK (ends_at > starts_at),
  CHECK (ends_at - starts_at < interval '24 hours'),
  -- the busy span is the appointment widened by its buffers, exactly (a raw INSERT cannot narrow it)
  CHECK (busy_from = starts_at - buffer_before_min * interval '1 minute'),
  CHECK (busy_to = ends_at + buffer_after_min * interval '1 minute'),
  -- one staff member: no two active appointments whose busy spans (buffers included) overlap
  CONSTRAINT appointments_staff_no_overlap EXCLUDE USING gist (
    staff_id WITH =, tstzrange(busy_from, busy_to, '[)') WITH &&
  ) WHERE (status IN ('scheduled', 'checked-in')),
  -- one patient: no two active appointments that overlap (with any staff member)
  CONSTRAINT appointments_patient_no_overlap EXCLUDE USING gist (
    patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
  ) WHERE (status IN ('scheduled', 'checked-in'))
);

-- the list's filters, in its (start, id) order for keyset paging
CREATE INDEX appointments_start_id ON appointments (starts_at, id);
CREATE INDEX appointments_staff_start ON appointments (staff_id, starts_at, id);
CREATE INDEX appointments_patient_start ON appointments (patient_id, starts_at, id);
CREATE INDEX appointments_series ON appointments (series_id, starts_at) WHERE series_id IS NOT NULL;
-- the no-show job: scheduled appointments by end
CREATE INDEX appointments_scheduled_end ON appointments (ends_at) WHERE status = 'scheduled';

-- copies of Staff's time off and facility closures, fed by its events (the staff record itself
-- and the patient's status are kit local copies). A removal leaves a tombstone, so a removal
-- that arrives before its addition is not undone by it.
CREATE TABLE staff_time_off (
  id        uuid PRIMARY KEY,
  staff_id  uuid NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at   timestamptz NOT NULL,
  removed   boolean NOT NULL DEFAULT false
);
CREATE INDEX staff_time_off_staff ON staff_time_off (staff_id, starts_at) WHERE NOT removed;

CREATE TABLE facility_closures (
  id      uuid PRIMARY KEY,
  date    date NOT NULL,
  removed boolean NOT NULL DEFAULT false
);
CREATE INDEX facility_closures_date ON facility_closures (date) WHERE NOT removed;

-- which copies were filled from their owner once (closures: the whole list; time off: per staff)
CREATE TABLE copy_syncs (
  kind      text NOT NULL,
  id        text NOT NULL,
  synced_at timestamptz NOT NULL,
  PRIMARY KEY (kind, id)
);
