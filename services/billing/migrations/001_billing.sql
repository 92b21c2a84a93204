-- The Billing & Claims service's tables (DOMAIN.md "Billing & Claims", issue #13, docs/adr/0014).
-- Money is bigint minor units with an ISO 4217 code. What Billing keeps of a patient (insurance,
-- status: their billing account) lives in the kit's local_copies table, fed by Patient's events.

-- The price of an appointment type: what an invoice drafted for such an appointment bills.
CREATE TABLE fee_schedule (
  code        text PRIMARY KEY,
  description text NOT NULL,
  unit_price  bigint NOT NULL CHECK (unit_price >= 0),
  currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- Invoice numbers: one counter per year, incremented in the transaction that creates the invoice,
-- so a rolled-back creation gives its number back (no gaps; the row lock orders creations).
CREATE TABLE invoice_counters (
  year integer PRIMARY KEY,
  last integer NOT NULL CHECK (last > 0)
);

-- `total`, `paid` and `adjusted` are kept in the same transaction as the lines and ledger rows
-- they sum, so the database itself refuses a ledger that would owe less than nothing (CHECK),
-- whatever the code does. What the API shows is summed from the rows themselves.
CREATE TABLE invoices (
  id             uuid PRIMARY KEY,
  number         text NOT NULL UNIQUE,
  patient_id     uuid NOT NULL,
  appointment_id uuid UNIQUE,
  currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status         text NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
  needs_pricing  boolean NOT NULL DEFAULT false,
  total          bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
  paid           bigint NOT NULL DEFAULT 0 CHECK (paid >= 0),
  adjusted       bigint NOT NULL DEFAULT 0 CHECK (adjusted >= 0),
  refund_due     bigint NOT NULL DEFAULT 0 CHECK (refund_due >= 0 AND refund_due <= paid),
  notes          text,
  issued_at      timestamptz,
  due_at         date,
  voided_at      timestamptz,
  void_reason    text,
  created_by     text NOT NULL,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  CHECK (paid + adjusted <= total),
  CHECK (status <> 'draft' OR (paid = 0 AND adjusted = 0 AND issued_at IS NULL)),
  CHECK (status <> 'issued' OR paid + adjusted < total),
  CHECK (status <> 'paid' OR paid + adjusted = total),
  -- void is refused once any payment exists
  CHECK ((status = 'void') = (voided_at IS NOT NULL AND void_reason IS NOT NULL)),
  CHECK (status <> 'void' OR paid = 0),
  CHECK (NOT needs_pricing OR status IN ('draft', 'void'))
);
CREATE INDEX invoices_patient ON invoices (patient_id, id);
CREATE INDEX invoices_status ON invoices (status, id);
CREATE INDEX invoices_created ON invoices (created_at, id);

CREATE TABLE invoice_lines (
  invoice_id  uuid NOT NULL REFERENCES invoices (id),
  line        integer NOT NULL CHECK (line >= 1),
  code        text NOT NULL,
  description text NOT NULL,
  quantity    integer NOT NULL CHECK (quantity > 0),
  unit_price  bigint NOT NULL CHECK (unit_price >= 0),
  -- kept with the adjustments naming the line: never more than the line bills
  adjusted    bigint NOT NULL DEFAULT 0 CHECK (adjusted >= 0 AND adjusted <= quantity * unit_price),
  PRIMARY KEY (invoice_id, line)
);

-- The ledger: payments and adjustments are appended, never changed.
CREATE TABLE payments (
  id          uuid PRIMARY KEY,
  invoice_id  uuid NOT NULL REFERENCES invoices (id),
  amount      bigint NOT NULL CHECK (amount > 0),
  currency    text NOT NULL,
  method      text NOT NULL CHECK (method IN ('cash', 'card', 'bank-transfer', 'cheque', 'insurance', 'other')),
  reference   text,
  -- an insurer's payment is its claim's: one per claim
  claim_id    uuid UNIQUE,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL,
  CHECK ((method = 'insurance') = (claim_id IS NOT NULL))
);
CREATE INDEX payments_invoice ON payments (invoice_id, id);

CREATE TABLE adjustments (
  id          uuid PRIMARY KEY,
  invoice_id  uuid NOT NULL REFERENCES invoices (id),
  line        integer,
  amount      bigint NOT NULL CHECK (amount > 0),
  currency    text NOT NULL,
  reason      text NOT NULL CHECK (reason IN ('contractual', 'write-off', 'courtesy', 'cancellation', 'correction')),
  note        text,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL,
  FOREIGN KEY (invoice_id, line) REFERENCES invoice_lines (invoice_id, line)
);
CREATE INDEX adjustments_invoice ON adjustments (invoice_id, id);

CREATE TABLE claims (
  id              uuid PRIMARY KEY,
  invoice_id      uuid NOT NULL REFERENCES invoices (id),
  patient_id      uuid NOT NULL,
  payer           text NOT NULL,
  member_id       text NOT NULL,
  group_number    text,
  amount          bigint NOT NULL CHECK (amount > 0),
  currency        text NOT NULL,
  approved_amount bigint CHECK (approved_amount > 0 AND approved_amount <= amount),
  status          text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'denied', 'paid')),
  denial_reason   text,
  denial_code     text,
  -- a denied claim is resubmitted once, as a new claim linked to it
  resubmission_of uuid UNIQUE REFERENCES claims (id),
  payment_id      uuid UNIQUE REFERENCES payments (id),
  created_by      text NOT NULL,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CHECK ((status = 'denied') = (denial_reason IS NOT NULL)),
  CHECK ((status IN ('approved', 'paid')) = (approved_amount IS NOT NULL)),
  CHECK ((status = 'paid') = (payment_id IS NOT NULL))
);
CREATE INDEX claims_invoice ON claims (invoice_id, id);
CREATE INDEX claims_patient ON claims (patient_id, id);
CREATE INDEX claims_created ON claims (created_at, id);

CREATE TABLE claim_history (
  claim_id uuid NOT NULL REFERENCES claims (id),
  seq      integer NOT NULL CHECK (seq >= 1),
  at       timestamptz NOT NULL,
  action   text NOT NULL,
  by       text NOT NULL,
  amount   bigint,
  reason   text,
  PRIMARY KEY (claim_id, seq)
);

-- What Billing has heard of each appointment: its newest version and status, so that events
-- arriving late or replayed under new ids neither draft an invoice for a cancelled appointment
-- nor cancel twice.
CREATE TABLE appointments_seen (
  appointment_id uuid PRIMARY KEY,
  version        integer NOT NULL,
  status         text NOT NULL
);
