-- Inbox (DESIGN.md §5): the id of every event a consumer has applied, written in the same
-- transaction as the event's effect, so a redelivered event has its effect once.
CREATE TABLE inbox (
  consumer    text NOT NULL,
  event_id    uuid NOT NULL,
  type        text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_received ON inbox (received_at);
