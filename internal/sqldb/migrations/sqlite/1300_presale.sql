-- Pre-sales to a minimum order quantity (以销定产): one SKU, a deadline, a
-- deposit or the full price; settled once at the deadline (status guard).
CREATE TABLE presales (
  id              INTEGER PRIMARY KEY,
  merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
  title           TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  product_id      INTEGER NOT NULL REFERENCES products(id),
  sku_id          INTEGER NOT NULL REFERENCES skus(id),
  price_fen       INTEGER NOT NULL CHECK (price_fen > 0),
  deposit_fen     INTEGER NOT NULL DEFAULT 0 CHECK (deposit_fen >= 0 AND deposit_fen < price_fen),
  moq             INTEGER NOT NULL CHECK (moq > 0),
  per_buyer_limit INTEGER NOT NULL CHECK (per_buyer_limit > 0),
  deadline        INTEGER NOT NULL,
  balance_due_at  INTEGER,
  ship_by         INTEGER NOT NULL,
  supplier        TEXT NOT NULL DEFAULT '',
  room_id         INTEGER REFERENCES rooms(id),
  status          TEXT NOT NULL CHECK (status IN ('open', 'reached', 'failed')),
  committed_units INTEGER NOT NULL DEFAULT 0, -- counted at settlement
  buyers          INTEGER NOT NULL DEFAULT 0, -- counted at settlement
  settled_at      INTEGER,
  forfeited_at    INTEGER,                    -- the deposit rule was applied
  notified_at     INTEGER,                    -- presale.reached/failed queued
  created_by      TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX presales_merchant ON presales(merchant_id, id);
CREATE INDEX presales_due ON presales(status, deadline);
CREATE INDEX presales_room ON presales(room_id) WHERE room_id IS NOT NULL;

-- Every order of a pre-sale: deposits and full payments count toward the
-- MOQ once paid; a balance order completes a deposit order.
CREATE TABLE presale_orders (
  order_id         INTEGER PRIMARY KEY REFERENCES orders(id),
  presale_id       INTEGER NOT NULL REFERENCES presales(id),
  customer_id      INTEGER NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('full', 'deposit', 'balance')),
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  deposit_order_id INTEGER REFERENCES orders(id),
  forfeited_at     INTEGER
);
CREATE INDEX presale_orders_presale ON presale_orders(presale_id, kind);
CREATE INDEX presale_orders_customer ON presale_orders(customer_id, presale_id);
CREATE INDEX presale_orders_deposit ON presale_orders(deposit_order_id) WHERE deposit_order_id IS NOT NULL;
