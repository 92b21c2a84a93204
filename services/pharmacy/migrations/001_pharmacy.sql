-- The Pharmacy service's tables (DOMAIN.md "Pharmacy", issue #12): the formulary and prescriptions.
-- What Pharmacy keeps of patients (allergies, status) and staff (role, status) lives in the kit's
-- local_copies table, fed by their owners' events.
CREATE TABLE medications (
  id                uuid PRIMARY KEY,
  code              text NOT NULL UNIQUE,
  name              text NOT NULL,
  form              text NOT NULL,
  strength          text NOT NULL,
  unit              text NOT NULL,
  ingredients       text[] NOT NULL,
  drug_classes      text[] NOT NULL DEFAULT '{}',
  inventory_item_id uuid,
  active            boolean NOT NULL DEFAULT true,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);

CREATE TABLE prescriptions (
  id                  uuid PRIMARY KEY,
  patient_id          uuid NOT NULL,
  prescriber_id       uuid NOT NULL,
  notes               text,
  status              text NOT NULL CHECK (status IN ('active', 'filled', 'completed', 'cancelled', 'expired')),
  valid_until         timestamptz NOT NULL,
  override_reason     text,
  allergy_alerts      jsonb NOT NULL DEFAULT '[]',
  cancellation_reason text,
  cancelled_at        timestamptz,
  expired_at          timestamptz,
  created_by          text NOT NULL,
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  -- an allergy is never overridden without a reason kept with it
  CHECK (allergy_alerts = '[]'::jsonb OR override_reason IS NOT NULL),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL)),
  CHECK ((status = 'expired') = (expired_at IS NOT NULL))
);
CREATE INDEX prescriptions_patient ON prescriptions (patient_id, id);
CREATE INDEX prescriptions_prescriber ON prescriptions (prescriber_id, id);
-- what the expiry job looks for
CREATE INDEX prescriptions_open_valid_until ON prescriptions (valid_until) WHERE status IN ('active', 'filled');

-- One row per prescribed medication. `dispensed` counts units handed out by completed fills,
-- `pending` the units of fills under way (counted against the item at once, so two fills racing
-- for the last refill cannot both start); the database refuses a total beyond
-- quantity × (1 + refills), whatever the code does.
CREATE TABLE prescription_items (
  prescription_id uuid NOT NULL REFERENCES prescriptions (id),
  position        integer NOT NULL CHECK (position >= 0),
  medication_id   uuid NOT NULL REFERENCES medications (id),
  dose            text NOT NULL,
  route           text NOT NULL,
  frequency       text NOT NULL,
  quantity        integer NOT NULL CHECK (quantity > 0),
  refills         integer NOT NULL CHECK (refills >= 0),
  dispensed       integer NOT NULL DEFAULT 0 CHECK (dispensed >= 0),
  pending         integer NOT NULL DEFAULT 0 CHECK (pending >= 0),
  PRIMARY KEY (prescription_id, position),
  UNIQUE (prescription_id, medication_id),
  CHECK (dispensed + pending <= quantity * (1 + refills))
);
CREATE INDEX prescription_items_medication ON prescription_items (medication_id);
