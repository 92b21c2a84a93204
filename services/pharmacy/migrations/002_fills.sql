-- The dispensing saga's state (issue #12, docs/adr/0013): one row per fill of a prescription or
-- ward dispense, and one line per medication it hands out, with the Inventory reservation and lots
-- the units come from. A fill is recorded `pending` before Inventory is asked (its id is the
-- reservations' reference), so a Pharmacy that stops mid-way finds it and resumes or compensates.
CREATE TABLE fills (
  id               uuid PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('fill', 'dispense')),
  prescription_id  uuid REFERENCES prescriptions (id),
  patient_id       uuid,
  state            text NOT NULL CHECK (state IN ('pending', 'completed', 'rejected')),
  -- a ward dispense's reason (what it was for)
  note             text,
  rejection_reason text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  rejected_at      timestamptz,
  CHECK ((kind = 'fill') = (prescription_id IS NOT NULL)),
  CHECK ((kind = 'dispense') = (note IS NOT NULL)),
  CHECK ((state = 'completed') = (completed_at IS NOT NULL)),
  CHECK ((state = 'rejected') = (rejected_at IS NOT NULL AND rejection_reason IS NOT NULL))
);
CREATE INDEX fills_prescription ON fills (prescription_id, id) WHERE prescription_id IS NOT NULL;
-- what the resume job looks for
CREATE INDEX fills_pending ON fills (created_at) WHERE state = 'pending';

CREATE TABLE fill_lines (
  fill_id        uuid NOT NULL REFERENCES fills (id),
  position       integer NOT NULL CHECK (position >= 0),
  medication_id  uuid NOT NULL REFERENCES medications (id),
  item_id        uuid NOT NULL,
  quantity       integer NOT NULL CHECK (quantity > 0),
  dispense_id    uuid NOT NULL UNIQUE,
  reservation_id uuid UNIQUE,
  lots           jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (fill_id, position)
);
-- a medication's dispense history, newest last (dispense ids are UUIDv7)
CREATE INDEX fill_lines_medication ON fill_lines (medication_id, dispense_id);
