-- Flash sales: a sale reserves its units out of stock when it starts
-- (flash_quota); orders hold units through allocations tagged with the sale.
CREATE TABLE flash_sales (
  id             INTEGER PRIMARY KEY,
  merchant_id    INTEGER NOT NULL REFERENCES merchants(id),
  room_id        INTEGER NOT NULL REFERENCES rooms(id),
  product_id     INTEGER NOT NULL,
  sku_id         INTEGER NOT NULL REFERENCES skus(id),
  store_id       INTEGER NOT NULL REFERENCES stores(id),
  price_fen      INTEGER NOT NULL CHECK (price_fen >= 0),
  quantity       INTEGER NOT NULL CHECK (quantity > 0),
  per_user_limit INTEGER NOT NULL CHECK (per_user_limit > 0),
  starts_at      INTEGER NOT NULL,
  ends_at        INTEGER NOT NULL,
  status         TEXT NOT NULL,
  sold           INTEGER NOT NULL DEFAULT 0, -- only the naive benchmark baseline counts here
  created_at     INTEGER NOT NULL,
  ended_at       INTEGER
);
CREATE INDEX flash_sales_room ON flash_sales(room_id, id);
CREATE INDEX flash_sales_due ON flash_sales(status, starts_at, ends_at);

CREATE TABLE flash_quota (
  sale_id  INTEGER NOT NULL REFERENCES flash_sales(id),
  store_id INTEGER NOT NULL,
  lot_id   INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (sale_id, lot_id)
);

ALTER TABLE allocations ADD COLUMN sale_id INTEGER;
CREATE INDEX allocations_sale ON allocations(sale_id, state) WHERE sale_id IS NOT NULL;
ALTER TABLE orders ADD COLUMN sale_id INTEGER;
