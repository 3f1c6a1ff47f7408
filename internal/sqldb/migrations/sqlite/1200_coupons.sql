-- Coupons (issue 18): the coupon, its budget (units = count, bounded by the
-- money budget / most one coupon can cost), and one claim row per coupon a
-- buyer holds. UNIQUE (coupon_id, customer_id, seq) is the per-person limit
-- in the database; CHECK (issued <= units) is the budget's last line.
CREATE TABLE coupons (
  id               INTEGER PRIMARY KEY,
  merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
  room_id          INTEGER REFERENCES rooms(id),
  kind             TEXT NOT NULL CHECK (kind IN ('fixed', 'threshold', 'percent', 'newcomer', 'room')),
  title            TEXT NOT NULL,
  amount_fen       INTEGER NOT NULL DEFAULT 0,
  min_spend_fen    INTEGER NOT NULL DEFAULT 0,
  percent_off      INTEGER NOT NULL DEFAULT 0,
  max_off_fen      INTEGER NOT NULL DEFAULT 0,
  budget_count     INTEGER NOT NULL,
  budget_fen       INTEGER NOT NULL DEFAULT 0,
  units            INTEGER NOT NULL,
  per_user_limit   INTEGER NOT NULL,
  valid_from       INTEGER NOT NULL,
  valid_until      INTEGER NOT NULL,
  scope            TEXT NOT NULL DEFAULT '{}',
  status           TEXT NOT NULL CHECK (status IN ('draft', 'live', 'closed')),
  issued           INTEGER NOT NULL DEFAULT 0,
  created_by       TEXT NOT NULL DEFAULT '',
  created_at       INTEGER NOT NULL,
  pushed_at        INTEGER,
  CHECK (issued >= 0 AND issued <= units)
);
CREATE INDEX coupons_merchant ON coupons(merchant_id, id);
CREATE INDEX coupons_live ON coupons(status) WHERE status = 'live';

CREATE TABLE coupon_claims (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL,
  coupon_id    INTEGER NOT NULL REFERENCES coupons(id),
  customer_id  INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('issued', 'used', 'void')),
  order_id     INTEGER,
  saved_fen    INTEGER NOT NULL DEFAULT 0,
  returned     INTEGER NOT NULL DEFAULT 0,
  source       TEXT NOT NULL DEFAULT 'grab',
  claimed_at   INTEGER NOT NULL,
  used_at      INTEGER,
  UNIQUE (coupon_id, customer_id, seq)
);
CREATE INDEX coupon_claims_wallet ON coupon_claims(customer_id, status);
CREATE INDEX coupon_claims_order ON coupon_claims(order_id) WHERE order_id IS NOT NULL;

-- What a coupon took off an order (total_fen is what the buyer pays), and
-- the draw a zero-price prize order was won in.
ALTER TABLE orders ADD COLUMN discount_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN coupon_claim_id INTEGER;
ALTER TABLE orders ADD COLUMN draw_id INTEGER;
