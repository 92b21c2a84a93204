-- The Analytics service's tables (DOMAIN.md "Analytics", issue #15, docs/adr/0017).
--
-- No PHI anywhere: ids, codes, statuses, amounts and instants only. The read models are a function
-- of the SET of events consumed: each event is kept once (by id) with its facts, each aggregate
-- (an appointment, an invoice, a claim…) counts in the buckets of its newest version only, and
-- `daily_totals` is the sum of those buckets. A rebuild clears the aggregates and totals and
-- applies the kept events again through the same code.

-- Every event consumed, reduced to what the read models need (`facts`, whitelisted fields) and the
-- ids it is about: what a rebuild replays, and what GET /analytics/events lists.
CREATE TABLE events (
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id          uuid PRIMARY KEY,
  type        text NOT NULL,
  subject     text NOT NULL,
  event_time  timestamptz NOT NULL,
  ids         jsonb NOT NULL,
  facts       jsonb NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX events_type_seq ON events (type, seq);
CREATE INDEX events_subject_seq ON events (subject, seq);

-- Per aggregate: the newest version applied and the buckets it counts in now, so that a newer
-- version takes its counts out of the old buckets and puts them into the new ones.
CREATE TABLE aggregates (
  kind    text NOT NULL,
  id      text NOT NULL,
  version integer NOT NULL,
  buckets jsonb NOT NULL,
  PRIMARY KEY (kind, id)
);

-- The read model the dashboard and the reports sum: per facility day, metric, dimension (a status,
-- an outcome, a denial code) and currency. A dashboard over a year reads a few thousand rows
-- whatever the number of events.
CREATE TABLE daily_totals (
  day       date NOT NULL,
  metric    text NOT NULL,
  dimension text NOT NULL,
  currency  text NOT NULL,
  count     bigint NOT NULL,
  amount    bigint NOT NULL,
  PRIMARY KEY (day, metric, dimension, currency)
);

-- Requests to rebuild; the job completes every pending one in one run (and runs a pending one
-- again after a crash: the rebuild is one transaction).
CREATE TABLE rebuilds (
  id           uuid PRIMARY KEY,
  state        text NOT NULL CHECK (state IN ('pending', 'completed')),
  requested_by text NOT NULL,
  requested_at timestamptz NOT NULL,
  finished_at  timestamptz,
  events       bigint,
  CHECK ((state = 'completed') = (finished_at IS NOT NULL))
);
CREATE INDEX rebuilds_pending ON rebuilds (requested_at) WHERE state = 'pending';

-- The dashboard last published as analytics.dashboard-updated.v1: the next one goes out only when
-- the KPIs differ from it.
CREATE TABLE published_dashboard (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  dashboard    jsonb NOT NULL,
  published_at timestamptz NOT NULL
);
