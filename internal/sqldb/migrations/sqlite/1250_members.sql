-- Members (issue 18 item 4): one programme per merchant (tiers, points
-- rate), one membership per customer and merchant with a merchant-local
-- number, the points ledger (a unique key per merchant makes each entry
-- once), per-order points state, member prices per SKU, and the segment a
-- room is restricted to.
CREATE TABLE member_programs (
  merchant_id INTEGER PRIMARY KEY REFERENCES merchants(id),
  program     TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE memberships (
  merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
  customer_id  INTEGER NOT NULL REFERENCES customers(id),
  seq          INTEGER NOT NULL,
  number       TEXT NOT NULL,
  points       INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
  earned_total INTEGER NOT NULL DEFAULT 0,
  spend_fen    INTEGER NOT NULL DEFAULT 0,
  source       TEXT NOT NULL DEFAULT '',
  joined_at    INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, customer_id)
);
CREATE UNIQUE INDEX memberships_seq ON memberships(merchant_id, seq);

-- the last membership number given per merchant (a row lock hands them out
-- one at a time on PostgreSQL)
CREATE TABLE member_numbers (
  merchant_id INTEGER PRIMARY KEY REFERENCES merchants(id),
  last        INTEGER NOT NULL
);

CREATE TABLE member_ledger (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  customer_id INTEGER NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('earn', 'reverse', 'spend')),
  delta       INTEGER NOT NULL,
  balance     INTEGER NOT NULL CHECK (balance >= 0),
  order_id    INTEGER,
  entry_key   TEXT NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX member_ledger_key ON member_ledger(merchant_id, entry_key);
CREATE INDEX member_ledger_customer ON member_ledger(merchant_id, customer_id, id);

CREATE TABLE member_points_orders (
  order_id     INTEGER PRIMARY KEY REFERENCES orders(id),
  merchant_id  INTEGER NOT NULL,
  customer_id  INTEGER NOT NULL,
  paid_fen     INTEGER NOT NULL,
  earned       INTEGER NOT NULL,
  reversed     INTEGER NOT NULL DEFAULT 0,
  refunded_fen INTEGER NOT NULL DEFAULT 0,
  CHECK (reversed <= earned)
);

CREATE TABLE member_prices (
  sku_id      INTEGER PRIMARY KEY REFERENCES skus(id),
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  price_fen   INTEGER NOT NULL CHECK (price_fen > 0),
  updated_at  INTEGER NOT NULL
);
CREATE INDEX member_prices_merchant ON member_prices(merchant_id);

CREATE TABLE room_audiences (
  room_id     INTEGER PRIMARY KEY REFERENCES rooms(id),
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  segment     TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);
