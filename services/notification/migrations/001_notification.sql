-- Notification (issue #15): messages, one per (fact, recipient, channel), and preferences.

-- The unique key is the at-most-once guarantee: a redelivered event, or the same fact under a
-- new event id, finds its row and adds none. `due_at` is when the dispatcher looks at a row next
-- (queued: at once; held: its release; failed: its next attempt); NULL once nothing is left to do.
CREATE TABLE messages (
  id uuid PRIMARY KEY,
  event_key text NOT NULL,
  event text NOT NULL,
  subject_id text NOT NULL,
  source_event_id uuid NOT NULL,
  recipient_type text NOT NULL CHECK (recipient_type IN ('patient', 'staff', 'address')),
  recipient_id text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  critical boolean NOT NULL,
  facts jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'held', 'sending', 'sent', 'failed', 'suppressed')),
  reason text,
  due_at timestamptz,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  -- the claim of one dispatcher run: writes after the provider call name it, so a claim that
  -- lapsed and was recovered is never overwritten
  claim_id uuid,
  lease_until timestamptz,
  -- set (and committed) just before the provider is called: a lapsed claim with it set may have
  -- been sent, and is never sent again
  handed_off_at timestamptz,
  locale text,
  destination text,
  mail_subject text,
  body text,
  encoding text CHECK (encoding IN ('GSM-7', 'UCS-2')),
  segments integer,
  provider text,
  provider_message_id text,
  sent_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT messages_once UNIQUE (event_key, recipient_type, recipient_id, channel),
  CONSTRAINT messages_sending_claimed CHECK (status <> 'sending' OR (claim_id IS NOT NULL AND lease_until IS NOT NULL))
);

CREATE INDEX messages_due ON messages (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX messages_leased ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_subject ON messages (subject_id, event);
CREATE INDEX messages_recipient ON messages (recipient_type, recipient_id, id);
CREATE INDEX messages_status ON messages (status, id);

-- One recipient's preferences; absent: every message, facility zone and locale, no quiet hours.
CREATE TABLE preferences (
  recipient_type text NOT NULL CHECK (recipient_type IN ('patient', 'staff')),
  recipient_id uuid NOT NULL,
  timezone text,
  locale text,
  quiet_start text,
  quiet_end text,
  opt_out jsonb NOT NULL DEFAULT '[]',
  version integer NOT NULL CHECK (version >= 1),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (recipient_type, recipient_id),
  CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
