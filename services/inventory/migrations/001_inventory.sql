-- The Inventory service's tables (DOMAIN.md "Inventory", issue #12, docs/adr/0012).
--
-- Stock lives in lots; an item's figures (on hand, reserved, available) are sums over its lots.
-- Every change of a lot's quantity is a row of `ledger` written in the same statement as the
-- change, so a lot's quantity always equals the sum of its ledger entries. What keeps stock exact
-- under concurrency is the database: the CHECKs below refuse a negative lot and a lot reserved
-- beyond what it holds whatever the code does, and every write of an item's stock first locks
-- the item's row (`SELECT … FOR UPDATE`), then its lots in lot-number order.
CREATE TABLE items (
  id                uuid PRIMARY KEY,
  sku               text NOT NULL UNIQUE,
  name              text NOT NULL,
  category          text NOT NULL,
  unit              text NOT NULL,
  reorder_threshold integer NOT NULL CHECK (reorder_threshold >= 0),
  reorder_quantity  integer NOT NULL CHECK (reorder_quantity > 0),
  supplier          text,
  last_restock_at   timestamptz,
  -- inventory.stock-low.v1 is published when usable stock falls below the threshold while this is
  -- true, which turns it false; usable stock back at or above the threshold turns it true again
  low_armed         boolean NOT NULL DEFAULT true,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
CREATE INDEX items_category_id ON items (category, id);

-- `expiry` is the last usable day in the facility's time zone: a date, not an instant.
CREATE TABLE lots (
  item_id    uuid NOT NULL REFERENCES items (id),
  lot_number text NOT NULL,
  expiry     date NOT NULL,
  quantity   integer NOT NULL CHECK (quantity >= 0),
  reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (item_id, lot_number),
  CHECK (reserved <= quantity)
);
-- the lots expiring before a date (the list and the expiry job), holding stock
CREATE INDEX lots_expiry ON lots (expiry, item_id, lot_number) WHERE quantity > 0;

CREATE TABLE reservations (
  id             uuid PRIMARY KEY,
  item_id        uuid NOT NULL REFERENCES items (id),
  quantity       integer NOT NULL CHECK (quantity > 0),
  -- the caller's id of what the stock is for (a fill): the same reference is the same reservation
  reference      text NOT NULL UNIQUE,
  state          text NOT NULL CHECK (state IN ('held', 'confirmed', 'consumed', 'released')),
  expires_at     timestamptz NOT NULL,
  created_at     timestamptz NOT NULL,
  confirmed_at   timestamptz,
  consumed_at    timestamptz,
  dispense_id    uuid UNIQUE,
  released_at    timestamptz,
  release_reason text CHECK (release_reason IN ('released', 'expired')),
  CHECK ((state = 'consumed') = (consumed_at IS NOT NULL AND dispense_id IS NOT NULL)),
  CHECK ((state = 'released') = (released_at IS NOT NULL AND release_reason IS NOT NULL))
);
-- what the TTL job looks for
CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE state = 'held';

CREATE TABLE reservation_lots (
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  item_id        uuid NOT NULL,
  lot_number     text NOT NULL,
  quantity       integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (reservation_id, lot_number),
  FOREIGN KEY (item_id, lot_number) REFERENCES lots (item_id, lot_number)
);

CREATE TABLE purchase_orders (
  id                uuid PRIMARY KEY,
  item_id           uuid NOT NULL REFERENCES items (id),
  quantity          integer NOT NULL CHECK (quantity > 0),
  supplier          text,
  note              text,
  status            text NOT NULL CHECK (status IN ('ordered', 'received')),
  ordered_by        text NOT NULL,
  ordered_at        timestamptz NOT NULL,
  received_lot      text,
  received_expiry   date,
  received_quantity integer CHECK (received_quantity > 0),
  received_by       text,
  received_at       timestamptz,
  CHECK ((status = 'received') = (received_at IS NOT NULL))
);
CREATE INDEX purchase_orders_item ON purchase_orders (item_id, id);

-- Every change of a lot's quantity: receipts, adjustments, dispenses, expiry write-offs.
-- Append-only; `lot_quantity_after` is the lot's quantity once this entry applied.
CREATE TABLE ledger (
  id                 uuid PRIMARY KEY,
  item_id            uuid NOT NULL,
  lot_number         text NOT NULL,
  quantity           integer NOT NULL CHECK (quantity <> 0),
  lot_quantity_after integer NOT NULL CHECK (lot_quantity_after >= 0),
  reason             text NOT NULL CHECK (reason IN ('receipt', 'dispense', 'expired', 'damaged',
                       'count-correction', 'returned', 'other')),
  note               text,
  reservation_id     uuid,
  dispense_id        uuid,
  order_id           uuid,
  actor              text NOT NULL,
  at                 timestamptz NOT NULL,
  FOREIGN KEY (item_id, lot_number) REFERENCES lots (item_id, lot_number)
);
CREATE INDEX ledger_item ON ledger (item_id, id);
-- a reservation is consumed once: one dispense entry per lot of it
CREATE UNIQUE INDEX ledger_one_dispense ON ledger (reservation_id, lot_number) WHERE reason = 'dispense';
