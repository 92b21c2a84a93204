-- Closures get an id of their own: the API answers it and the closure events name the closure by
-- it. Rows that exist get a random one; new closures get a UUIDv7 from the service.
ALTER TABLE closures ADD COLUMN id uuid;
UPDATE closures SET id = gen_random_uuid() WHERE id IS NULL;
ALTER TABLE closures ALTER COLUMN id SET NOT NULL;
ALTER TABLE closures ADD CONSTRAINT closures_id_key UNIQUE (id);

-- Staff's copy of the appointments of its staff members, kept from the Appointment service's
-- events (appointment.created/updated/cancelled.v1). `version` is the appointment's: a row only
-- moves forward, so an event applied twice or out of order never takes it back. No foreign key
-- to staff: it is another service's data, applied as it arrives. The buffers are the busy time
-- around the appointment that availability subtracts with it.
CREATE TABLE assignments (
  appointment_id    uuid PRIMARY KEY,
  staff_id          uuid NOT NULL,
  patient_id        uuid NOT NULL,
  type              text NOT NULL,
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  buffer_before_min integer NOT NULL DEFAULT 0,
  buffer_after_min  integer NOT NULL DEFAULT 0,
  status            text NOT NULL,
  series_id         uuid,
  version           integer NOT NULL,
  updated_at        timestamptz NOT NULL
);

-- the assignments list of one staff member, in start order for keyset paging
CREATE INDEX assignments_staff_start ON assignments (staff_id, starts_at, appointment_id);
-- what still holds a staff member's time (availability, the deactivation check): active ones only
CREATE INDEX assignments_staff_active_end ON assignments (staff_id, ends_at)
  WHERE status IN ('scheduled', 'checked-in');
