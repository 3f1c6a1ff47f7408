-- Near-expiry clearance: a merchant's rules (JSON, one row), and each
-- clearance session with the offers it made (one flash sale per SKU), kept
-- for the waste-saved report.
CREATE TABLE clearance_rules (
  merchant_id INTEGER PRIMARY KEY REFERENCES merchants(id),
  rules       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE clearance_sessions (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  store_id    INTEGER NOT NULL REFERENCES stores(id),
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX clearance_sessions_merchant ON clearance_sessions(merchant_id, id);

CREATE TABLE clearance_items (
  session_id  INTEGER NOT NULL REFERENCES clearance_sessions(id),
  sale_id     INTEGER NOT NULL,
  sku_id      INTEGER NOT NULL,
  product_id  INTEGER NOT NULL,
  storage     TEXT NOT NULL,
  regular_fen INTEGER NOT NULL,
  price_fen   INTEGER NOT NULL,
  quantity    INTEGER NOT NULL,
  grams_each  INTEGER NOT NULL DEFAULT 0,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (session_id, sale_id)
);
CREATE INDEX clearance_items_sale ON clearance_items(sale_id);
